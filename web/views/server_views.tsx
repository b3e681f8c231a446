// Servers: list, form (create and edit), detail with pool IP and pinned host key.
import type { ServerRow } from "../../db/servers.ts";
import type { PolicyRow } from "../../db/policies.ts";
import type { SessionRow } from "../../db/session_queries.ts";
import { parseSshPublicKey, SshKeyError } from "../../policy/ssh_key.ts";
import {
  Badge,
  Checkbox,
  Csrf,
  Empty,
  Field,
  Flash,
  FormError,
  type FormState,
  PostButton,
  Time,
} from "./parts.tsx";
import { SessionTable } from "./session_parts.tsx";
import { PolicyTable } from "./policy_parts.tsx";
import { BackendKeyPanel, type BackendKeyState } from "./backend_key_view.tsx";
import { CredentialsPanel } from "./credential_view.tsx";
import type { ServerCredentialRow } from "../../db/server_credentials.ts";

export function hostKeyFingerprint(key: string | null): string | null {
  if (!key) return null;
  try {
    return parseSshPublicKey(key).fingerprint;
  } catch (e) {
    if (e instanceof SshKeyError) return null;
    throw e;
  }
}

export function ServerList(p: { servers: ServerRow[]; q: string; pool: string | null; flash?: string }) {
  return (
    <>
      <h1>Servers</h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <form class="filters" method="get" action="/servers">
        <label>
          Search
          <input name="q" value={p.q} placeholder="name or address" />
        </label>
        <button type="submit">Search</button>
        <a class="button" href="/servers/new" id="new-server">New server</a>
        <span class="muted">
          IP pool: <span class="mono">{p.pool ?? "not configured"}</span>
        </span>
      </form>
      <table id="servers-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Address</th>
            <th>Protocols</th>
            <th>Pool IP</th>
            <th>RDP listen port</th>
            <th>Host key</th>
            <th>Groups</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {p.servers.length === 0 ? <Empty cols={8}>No servers.</Empty> : null}
          {p.servers.map((s) => (
            <tr key={s.id}>
              <td>
                <a href={`/servers/${encodeURIComponent(s.name)}`}>{s.name}</a>
              </td>
              <td class="mono">{s.address} (ssh {s.ssh_port}, rdp {s.rdp_port})</td>
              <td>{s.protocols.join(", ")}</td>
              <td class="mono">{s.pool_ip ?? "—"}</td>
              <td>{s.rdp_listen_port ?? "—"}</td>
              <td>{s.host_key ? "pinned" : <span class="muted">not yet</span>}</td>
              <td>{s.groups.join(", ")}</td>
              <td>{s.active ? <Badge kind="ok">active</Badge> : <Badge kind="bad">inactive</Badge>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function ServerForm(p: { form: FormState; csrf: string; server?: ServerRow; pool: string | null }) {
  const edit = p.server !== undefined;
  const action = edit ? `/servers/${encodeURIComponent(p.server!.name)}/edit` : "/servers";
  const protos = (p.form.values.protocols ?? "ssh").split(",");
  return (
    <>
      <h1>{edit ? `Edit server ${p.server!.name}` : "New server"}</h1>
      <FormError form={p.form} />
      <form method="post" action={action} id="server-form" class="panel">
        <Csrf token={p.csrf} />
        {edit ? null : <Field form={p.form} name="name" label="Name" required />}
        <Field form={p.form} name="address" label="Address" required hint="Host name or IP of the backend." />
        <div class={p.form.errors.protocols ? "field invalid" : "field"}>
          <label>Protocols</label>
          <label>
            <input type="checkbox" name="protocols" value="ssh" checked={protos.includes("ssh")} /> SSH
          </label>
          <label>
            <input type="checkbox" name="protocols" value="rdp" checked={protos.includes("rdp")} /> RDP
          </label>
          {p.form.errors.protocols ? <span class="error">{p.form.errors.protocols}</span> : null}
        </div>
        <Field form={p.form} name="ssh_port" label="SSH port" type="number" />
        <Field form={p.form} name="rdp_port" label="RDP port" type="number" />
        <Field
          form={p.form}
          name="pool_ip"
          label="Proxy IP from the pool"
          hint={`"auto" allocates the next free address of ${
            p.pool ?? "the pool (none configured)"
          }, an IP picks one, "none" releases it${edit ? "; leave as is to keep it" : ""}.`}
        />
        <Field
          form={p.form}
          name="rdp_listen_port"
          label="Dedicated RDP listen port"
          type="number"
          hint="Optional."
        />
        <Field
          form={p.form}
          name="rdp_security"
          label="RDP security"
          options={[
            {
              value: "any",
              label: "any: NLA when the client offers it, else TLS (single-user sources only)",
            },
            { value: "nla", label: "nla: Network Level Authentication required" },
            { value: "tls", label: "tls: no NLA" },
          ]}
          hint="Clients without NLA are admitted only where their source address identifies exactly one user."
        />
        <Checkbox
          form={p.form}
          name="password_passthrough"
          label="Password passthrough"
          hint={"The password a user types at the jump host may be handed to this server (SSH password and " +
            "keyboard-interactive logins, RDP logons with NLA). Turn it off to keep jump passwords at the jump: " +
            "the server then gets the appliance's backend key, the user's forwarded agent or a stored credential."}
        />
        <Field form={p.form} name="description" label="Description" />
        {edit ? <Checkbox form={p.form} name="active" label="Active" /> : null}
        <button type="submit" id="server-submit">{edit ? "Save" : "Create server"}</button>{" "}
        <a
          class="button secondary"
          href={edit ? `/servers/${encodeURIComponent(p.server!.name)}` : "/servers"}
        >
          Cancel
        </a>
      </form>
    </>
  );
}

export function ServerDetail(
  p: {
    s: ServerRow;
    policies: PolicyRow[];
    sessions: SessionRow[];
    csrf: string;
    now: Date;
    flash?: string;
    backendKey: { state: BackendKeyState; form: FormState; canManage: boolean };
    credentials: { rows: ServerCredentialRow[]; form: FormState };
  },
) {
  const s = p.s;
  const base = `/servers/${encodeURIComponent(s.name)}`;
  const fp = hostKeyFingerprint(s.host_key);
  return (
    <>
      <h1>
        Server {s.name} {s.active ? <Badge kind="ok">active</Badge> : <Badge kind="bad">inactive</Badge>}
      </h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <div class="actions">
        <a class="button" href={`${base}/edit`} id="edit-server">Edit</a>
        <PostButton
          action={`${base}/delete`}
          csrf={p.csrf}
          label="Delete"
          danger
          confirm={`Delete server ${s.name}?`}
          id="delete-server"
        />
        <a
          class="button secondary"
          href={`/policies/new?scope_kind=server&scope=${encodeURIComponent(s.name)}`}
        >
          Grant access…
        </a>
      </div>
      <div class="panel">
        <dl class="kv" id="server-fields">
          <dt>Address</dt>
          <dd class="mono">{s.address}</dd>
          <dt>Protocols</dt>
          <dd>{s.protocols.join(", ")}</dd>
          <dt>SSH port</dt>
          <dd>{s.ssh_port}</dd>
          <dt>RDP port</dt>
          <dd>{s.rdp_port}</dd>
          <dt>Pool IP</dt>
          <dd class="mono" id="server-pool-ip">{s.pool_ip ?? "—"}</dd>
          <dt>RDP listen port</dt>
          <dd>{s.rdp_listen_port ?? "—"}</dd>
          <dt>RDP security</dt>
          <dd id="server-rdp-security">{s.rdp_security}</dd>
          <dt>Password passthrough</dt>
          <dd id="server-password-passthrough">{s.password_passthrough ? "on" : "off"}</dd>
          <dt>Groups</dt>
          <dd>{s.groups.length ? s.groups.join(", ") : "—"}</dd>
          <dt>Description</dt>
          <dd>{s.description ?? "—"}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={s.created_at} />
          </dd>
          <dt>Pinned host key</dt>
          <Pinned
            id="server-host-key"
            value={s.host_key ? fp ?? s.host_key.slice(0, 80) : null}
            at={s.host_key_pinned_at}
            reset={`${base}/host-key/reset`}
            csrf={p.csrf}
            label="Reset host key"
            confirm="Forget the pinned key? The next connection pins whatever key the server presents."
          />
          {s.protocols.includes("rdp") && (
            <>
              <dt>Pinned RDP certificate</dt>
              <Pinned
                id="server-rdp-cert"
                value={s.rdp_cert_sha256 && `SHA256 ${s.rdp_cert_sha256}`}
                at={s.rdp_cert_pinned_at}
                reset={`${base}/rdp-cert/reset`}
                csrf={p.csrf}
                label="Reset RDP certificate"
                confirm="Forget the pinned certificate? The next RDP connection pins whatever certificate the server presents."
              />
            </>
          )}
        </dl>
      </div>
      {s.protocols.includes("ssh") || p.backendKey.state.kind === "key" ||
          p.backendKey.state.kind === "invalid"
        ? (
          <BackendKeyPanel
            server={s.name}
            state={p.backendKey.state}
            csrf={p.csrf}
            canManage={p.backendKey.canManage}
            form={p.backendKey.form}
          />
        )
        : null}
      {s.protocols.includes("rdp") || p.credentials.rows.length > 0
        ? (
          <CredentialsPanel
            server={s.name}
            rows={p.credentials.rows}
            csrf={p.csrf}
            form={p.credentials.form}
          />
        )
        : null}
      <h2>Policies</h2>
      <PolicyTable rows={p.policies} />
      <h2>Recent sessions</h2>
      <SessionTable rows={p.sessions} now={p.now} />
    </>
  );
}

/** A pinned identity (SSH host key, RDP certificate) with its reset button, or "none yet". */
function Pinned(
  p: {
    id: string;
    value: string | null;
    at: Date | null;
    reset: string;
    csrf: string;
    label: string;
    confirm: string;
  },
) {
  return (
    <dd id={p.id}>
      {p.value
        ? (
          <>
            <span class="mono">{p.value}</span>{" "}
            <span class="muted">
              pinned <Time at={p.at} />
            </span>
            <PostButton
              action={p.reset}
              csrf={p.csrf}
              label={p.label}
              confirm={p.confirm}
              id={p.id.replace("server-", "reset-")}
            />
          </>
        )
        : <span class="muted">none yet (pinned on first connection)</span>}
    </dd>
  );
}
