// GET/POST /login and POST /logout.
import { type Context, Hono } from "hono";
import { writeAudit } from "../../db/audit.ts";
import { deleteConsoleSession, hashToken } from "../../db/console_sessions.ts";
import { countActiveAdmins } from "../../db/console_users.ts";
import {
  attemptLogin,
  type AuthLimits,
  clearSessionCookie,
  clientIp,
  completeCodeLogin,
  readSessionCookie,
  requireSession,
  safeNext,
  setSessionCookie,
} from "../auth.ts";
import { checkLoginToken, csrfProtect, issueLoginToken } from "../csrf.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { htmlResponse } from "../render.tsx";
import { Layout } from "../views/layout.tsx";
import { CSRF_FIELD } from "../csrf.ts";
import type { OpenStreams } from "../session_watch.ts";
import { applianceKeyOf } from "../secret.ts";
import type { Sql } from "../../db/client.ts";
import { secondFactorsOf } from "../passkeys/factors.ts";
import { passkeyLoginRoutes } from "../passkeys/login_routes.ts";
import { MESSAGES } from "../login_messages.ts";
import { findMfaChallenge } from "../../db/console_mfa_challenges.ts";

interface LoginPageProps {
  csrf: string;
  next: string;
  name: string;
  error?: string;
  info?: string;
  /** no console admin exists yet: the command that creates one */
  noAdmin?: string;
  /** set during a database outage: the banner */
  dbDownSince?: Date | null;
  /** single sign-on is configured: the provider's name for its button */
  sso?: string | null;
}

function LoginPage(p: LoginPageProps) {
  return (
    <Layout
      title="Log in"
      session={null}
      path="/login"
      dbDownSince={p.dbDownSince}
      scripts={["passkeys.js"]}
    >
      <div class="login panel">
        <h1>jumphost</h1>
        {p.noAdmin
          ? (
            <div class="flash" id="no-admin">
              No console admin exists yet. On the jump host, create one with <code>{p.noAdmin}</code>{" "}
              (same configuration as{" "}
              <code>serve</code>): it prints a one-time password, which you replace with your own at the first
              login.
            </div>
          )
          : null}
        {p.info ? <div class="flash">{p.info}</div> : null}
        {p.error ? <div class="flash error" role="alert" id="login-error">{p.error}</div> : null}
        <form method="post" action="/login">
          <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
          <input type="hidden" name="next" value={p.next} />
          <div class="field">
            <label for="name">Name</label>
            <input id="name" name="name" value={p.name} autocomplete="username" required autofocus />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <button type="submit" id="login-submit">Log in</button>
        </form>
        <p class="passkey-login">
          <button type="button" id="login-passkey" data-passkey-login data-next={p.next}>
            Sign in with a passkey
          </button>
        </p>
        <div id="passkey-status" role="status"></div>
        {p.sso ? <SsoButton next={p.next} provider={p.sso} /> : null}
      </div>
    </Layout>
  );
}

/**
 * Single sign-on: a link, not a form, because the next step is the provider's page and the CSP's form-action
 * would stop a form's redirect there. Starting a sign-in changes nothing; the callback is what state guards.
 */
function SsoButton(p: { next: string; provider: string }) {
  const href = p.next === "/" ? "/login/oidc" : `/login/oidc?next=${encodeURIComponent(p.next)}`;
  return (
    <p class="sso-login">
      <a href={href} class="button" id="login-sso">Sign in with {p.provider}</a>
    </p>
  );
}

export interface SecondFactors {
  totp: boolean;
  passkey: boolean;
}

/** The second step of a login: the page for what the account has (TOTP code, passkey, or both). */
export async function codePage(
  c: Context<AppEnv>,
  sql: Sql,
  p: { csrf: string; challenge: string; error?: string },
  now: Date,
  status = 200,
): Promise<Response> {
  const found = await findMfaChallenge(sql, p.challenge, now);
  const methods = found ? await secondFactorsOf(sql, found.userId) : { totp: true, passkey: false };
  return htmlResponse(c, <CodePage {...p} {...methods} />, status);
}

export function CodePage(p: { csrf: string; challenge: string; error?: string } & SecondFactors) {
  return (
    <Layout title="Verification code" session={null} path="/login" scripts={["passkeys.js"]}>
      <div class="login panel">
        <h1>jumphost</h1>
        {p.error ? <div class="flash error" role="alert" id="login-error">{p.error}</div> : null}
        {p.passkey
          ? (
            <p class="passkey-login">
              <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
              <button type="button" id="code-passkey" data-passkey-login data-challenge={p.challenge}>
                Use your passkey
              </button>
            </p>
          )
          : null}
        <div id="passkey-status" role="status"></div>
        {p.totp ? <CodeForm csrf={p.csrf} challenge={p.challenge} /> : null}
      </div>
    </Layout>
  );
}

function CodeForm(p: { csrf: string; challenge: string }) {
  return (
    <form method="post" action="/login/code" id="code-form">
      <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
      <input type="hidden" name="challenge" value={p.challenge} />
      <div class="field">
        <label for="code">Verification code</label>
        <input
          id="code"
          name="code"
          autocomplete="one-time-code"
          inputmode="numeric"
          maxlength={20}
          required
          autofocus
        />
        <small class="hint">from your authenticator app, or one of your recovery codes</small>
      </div>
      <button type="submit" id="code-submit">Verify</button>
    </form>
  );
}

export function loginRoutes(
  deps: WebDeps,
  limits: AuthLimits,
  now: () => Date,
  streams?: OpenStreams,
): Hono<AppEnv> {
  const secure = deps.secureCookies ?? false;
  const sso = deps.oidc?.config.providerName ?? null;
  const app = new Hono<AppEnv>();

  app.get("/login", async (c) => {
    const info = c.req.query("expired") === "1"
      ? "Your session ended. Please log in again."
      : c.req.query("bye") === "1"
      ? "You are logged out."
      : undefined;
    const csrf = issueLoginToken(c, secure);
    // during an outage the page still shows (with the banner); the count would only fail
    const noAdmin = !c.get("dbDownSince") && await countActiveAdmins(deps.sql) === 0
      ? deps.firstAdminCommand ?? "jumphost admin add admin"
      : undefined;
    return htmlResponse(
      c,
      <LoginPage
        dbDownSince={c.get("dbDownSince") ?? null}
        csrf={csrf}
        next={safeNext(c.req.query("next"))}
        name=""
        info={info}
        noAdmin={noAdmin}
        sso={sso}
      />,
    );
  });

  app.post("/login", async (c) => {
    await checkLoginToken(c);
    const body = await c.req.parseBody();
    const name = typeof body.name === "string" ? body.name.trim() : "";
    const password = typeof body.password === "string" ? body.password : "";
    const next = safeNext(typeof body.next === "string" ? body.next : "/");
    const csrf = issueLoginToken(c, secure);
    if (name === "" || password === "" || password.length > 1024) {
      return htmlResponse(
        c,
        <LoginPage
          dbDownSince={c.get("dbDownSince") ?? null}
          csrf={csrf}
          next={next}
          name={name}
          error={MESSAGES.bad_credentials}
        />,
        400,
      );
    }
    const r = await attemptLogin(
      deps.sql,
      {
        name,
        password,
        sourceIp: clientIp(c),
        userAgent: c.req.header("User-Agent") ?? null,
        next,
      },
      now(),
      limits,
      deps.nodeId,
      deps.directory ?? null,
    );
    if (!r.ok && r.reason === "code_needed") {
      return await codePage(c, deps.sql, { csrf, challenge: r.challenge }, now());
    }
    if (!r.ok) {
      const status = r.reason === "source_blocked" || r.reason === "locked" ? 429 : 401;
      return htmlResponse(
        c,
        <LoginPage
          dbDownSince={c.get("dbDownSince") ?? null}
          csrf={csrf}
          next={next}
          name={name}
          error={MESSAGES[r.reason]}
          sso={sso}
        />,
        status,
      );
    }
    setSessionCookie(c, secure, r.token, (r.expiresAt.getTime() - now().getTime()) / 1000);
    return c.redirect(next, 303);
  });

  app.post("/login/code", async (c) => {
    await checkLoginToken(c);
    const body = await c.req.parseBody();
    const challenge = typeof body.challenge === "string" ? body.challenge : "";
    const code = typeof body.code === "string" ? body.code.trim() : "";
    const csrf = issueLoginToken(c, secure);
    const r = await completeCodeLogin(
      deps.sql,
      await applianceKeyOf(deps),
      { challenge, code, sourceIp: clientIp(c), userAgent: c.req.header("User-Agent") ?? null },
      now(),
      limits,
      deps.nodeId,
    );
    if (r.ok) {
      setSessionCookie(c, secure, r.token, (r.expiresAt.getTime() - now().getTime()) / 1000);
      return c.redirect(safeNext(r.next), 303);
    }
    if (r.reason === "bad_code") {
      return await codePage(
        c,
        deps.sql,
        { csrf, challenge: r.challenge, error: MESSAGES.bad_code },
        now(),
        401,
      );
    }
    if (r.reason === "code_needed") {
      return await codePage(c, deps.sql, { csrf, challenge: r.challenge }, now());
    }
    const status = r.reason === "locked" || r.reason === "source_blocked" ? 429 : 401;
    return htmlResponse(
      c,
      <LoginPage csrf={csrf} next="/" name="" error={MESSAGES[r.reason]} />,
      status,
    );
  });

  app.route("/", passkeyLoginRoutes(deps, limits, now));

  app.post("/logout", requireSession(deps.sql, now, limits, secure), csrfProtect(), async (c) => {
    const s = c.get("session");
    const token = readSessionCookie(c, secure);
    if (token && hashToken(token) === s.tokenHash) await deleteConsoleSession(deps.sql, s.tokenHash);
    streams?.endSession(s.tokenHash, "logged_out");
    await writeAudit(deps.sql, {
      actor: `console:${s.userName}`,
      action: "console.logout",
      target: s.userName,
      sourceIp: clientIp(c),
      success: true,
    }, deps.nodeId);
    clearSessionCookie(c, secure);
    if (c.req.header("HX-Request")) {
      c.header("HX-Redirect", "/login?bye=1");
      return c.body(null, 204);
    }
    return c.redirect("/login?bye=1", 303);
  });

  return app;
}
