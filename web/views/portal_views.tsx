// The end-user portal's pages: the login form and "your access" (grants with time left, own sessions).
import type { AccessRequestRow } from "../../db/access_requests.ts";
import type { PortalGrant, PortalSessionRow } from "../../db/portal_queries.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { timeLeft } from "../portal/time_left.ts";
import { Layout } from "./layout.tsx";

const fmt = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16) + " UTC";

export function PortalLoginPage(
  p: { csrf: string; name: string; error?: string; info?: string; dbDownSince?: Date | null },
) {
  return (
    <Layout title="Your access" session={null} path="/portal/login" dbDownSince={p.dbDownSince}>
      <div class="login panel">
        <h1>jumphost</h1>
        <p>Log in with the name and password you use at the jump host to see your access and sessions.</p>
        {p.info ? <div class="flash">{p.info}</div> : null}
        {p.error ? <div class="flash error" role="alert" id="portal-login-error">{p.error}</div> : null}
        <form method="post" action="/portal/login">
          <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
          <div class="field">
            <label for="name">Name</label>
            <input id="name" name="name" value={p.name} autocomplete="username" required autofocus />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <div class="field">
            <label for="code">Verification code (if you use an authenticator)</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength={64} />
          </div>
          <button type="submit" id="portal-login-submit">Log in</button>
        </form>
      </div>
    </Layout>
  );
}

function Target(p: { g: PortalGrant }) {
  const g = p.g;
  return (
    <>
      {g.scope_kind === "server_group"
        ? (
          <>
            group <strong>{g.scope}</strong>
            {": "}
          </>
        )
        : null}
      {g.servers.length ? g.servers.join(", ") : <span class="muted">no active server</span>}
    </>
  );
}

export function PortalHomePage(
  p: {
    userName: string;
    csrf: string;
    jumpHost: string;
    grants: PortalGrant[];
    sessions: PortalSessionRow[];
    requests: AccessRequestRow[];
    requestForm: { values: Record<string, string>; error?: string; done?: string };
    now: Date;
  },
) {
  const example = p.grants.find((g) => g.servers.length && g.protocols.includes("ssh"));
  return (
    <Layout title="Your access" session={null} path="/portal">
      <header class="top">
        <span class="brand">jumphost</span>
        <nav>
          <a href="/portal" class="active">Your access</a>
        </nav>
        <div class="who">
          <span id="portal-user">{p.userName}</span>
          <form method="post" action="/portal/logout">
            <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
            <button type="submit" id="portal-logout">Log out</button>
          </form>
        </div>
      </header>
      <h1>Your access</h1>
      <section class="panel">
        <h2>Grants</h2>
        {p.grants.length === 0
          ? <p id="no-grants">You have no grant now. Ask an administrator for access.</p>
          : (
            <table id="portal-grants">
              <thead>
                <tr>
                  <th>Servers</th>
                  <th>Protocols</th>
                  <th>Logins</th>
                  <th>Forwarding</th>
                  <th>From</th>
                  <th>Until</th>
                  <th>Time left</th>
                  <th>Granted to</th>
                </tr>
              </thead>
              <tbody>
                {p.grants.map((g) => (
                  <tr>
                    <td>
                      <Target g={g} />
                    </td>
                    <td>{g.protocols.join(", ")}</td>
                    <td>{g.logins.length ? g.logins.join(", ") : "any"}</td>
                    <td>{g.port_forwarding ? "yes" : "no"}</td>
                    <td>{fmt(g.valid_from)}</td>
                    <td>{fmt(g.valid_until)}</td>
                    <td class="time-left">{timeLeft(g.valid_from, g.valid_until, p.now)}</td>
                    <td>{g.via_group ? `group ${g.via_group}` : "you"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        {example
          ? (
            <p>
              Connect with <code>ssh {example.logins[0] ?? "LOGIN"}@{example.servers[0]}@{p.jumpHost}</code>.
            </p>
          )
          : null}
      </section>
      <PortalRequests csrf={p.csrf} requests={p.requests} form={p.requestForm} />
      <section class="panel">
        <h2>Your sessions</h2>
        {p.sessions.length === 0 ? <p id="no-sessions">No sessions yet.</p> : (
          <table id="portal-sessions">
            <thead>
              <tr>
                <th>Started</th>
                <th>Server</th>
                <th>Protocol</th>
                <th>Login</th>
                <th>From</th>
                <th>Ended</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {p.sessions.map((s) => (
                <tr>
                  <td>{fmt(s.started_at)}</td>
                  <td>{s.server_name}</td>
                  <td>{s.protocol}</td>
                  <td>{s.ssh_login ?? ""}</td>
                  <td>{s.source_ip}</td>
                  <td>{s.ended_at ? fmt(s.ended_at) : ""}</td>
                  <td>{s.is_active ? "active" : s.termination_reason ?? "ended"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Layout>
  );
}

/** Asking for access, and the user's own last requests with their state. */
function PortalRequests(
  p: {
    csrf: string;
    requests: AccessRequestRow[];
    form: { values: Record<string, string>; error?: string; done?: string };
  },
) {
  const v = p.form.values;
  return (
    <section class="panel">
      <h2>Request access</h2>
      {p.form.done ? <div class="flash ok" role="status">{p.form.done}</div> : null}
      {p.form.error ? <div class="flash error" role="alert" id="request-error">{p.form.error}</div> : null}
      <form method="post" action="/portal/requests" id="portal-request-form">
        <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
        <div class="field">
          <label for="r-server">Server</label>
          <input id="r-server" name="server" value={v.server ?? ""} required />
        </div>
        <div class="field">
          <label for="r-logins">Logins (comma-separated)</label>
          <input id="r-logins" name="logins" value={v.logins ?? ""} required />
        </div>
        <div class="field">
          <label for="r-minutes">Minutes (60, 90m, 2h)</label>
          <input id="r-minutes" name="minutes" value={v.minutes ?? ""} required />
        </div>
        <div class="field">
          <label for="r-reason">Reason</label>
          <input id="r-reason" name="reason" value={v.reason ?? ""} required />
        </div>
        <button type="submit" id="portal-request">Request</button>
      </form>
      {p.requests.length
        ? (
          <table id="portal-requests">
            <thead>
              <tr>
                <th>Id</th>
                <th>Server</th>
                <th>Logins</th>
                <th>Minutes</th>
                <th>State</th>
                <th>Asked</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {p.requests.map((r) => (
                <tr>
                  <td>{r.id}</td>
                  <td>{r.server_name}</td>
                  <td>{r.logins.join(", ")}</td>
                  <td>{r.state === "approved" ? r.granted_minutes : r.minutes}</td>
                  <td>{r.state}</td>
                  <td>{fmt(r.created_at)}</td>
                  <td>{r.decision_note ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : null}
    </section>
  );
}
