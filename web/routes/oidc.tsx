// Single sign-on with an OpenID provider: GET /login/oidc starts the authorization-code flow (PKCE, state,
// nonce kept in a sealed cookie), GET /login/oidc/callback finishes it. Every failure is a readable page
// with a way back to the login form, never a stack trace; every refusal is audited.
import { Hono } from "hono";
import { writeAudit } from "../../db/audit.ts";
import { issueLoginToken } from "../csrf.ts";
import { type AuthLimits, clientIp, safeNext, setSessionCookie } from "../auth.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { htmlResponse } from "../render.tsx";
import { Layout } from "../views/layout.tsx";
import { applianceKeyOf } from "../secret.ts";
import { type OidcClient, OidcError } from "../oidc/client.ts";
import { FLOW_TTL_MS, setFlowCookie, takeFlowCookie } from "../oidc/flow_cookie.ts";
import { ssoLogin, type SsoRefusal } from "../oidc/sso_login.ts";
import { codePage } from "./login.tsx";

export const OIDC_CALLBACK_PATH = "/login/oidc/callback";

function SsoPage(p: { title: string; message: string; status: "refused" | "error" }) {
  return (
    <Layout title={p.title} session={null} path="/login">
      <main class="login panel">
        <h1>{p.title}</h1>
        <div class="flash error" role="alert" id="sso-error" data-status={p.status}>{p.message}</div>
        <p>
          <a href="/login" id="back-to-login">Back to the login page</a>
        </p>
      </main>
    </Layout>
  );
}

/** After the login the browser moves on by itself: a same-site step, so the Strict session cookie goes along. */
function ContinuePage(p: { next: string }) {
  return (
    <Layout title="Signed in" session={null} path="/login">
      <meta http-equiv="refresh" content={`0;url=${p.next}`} />
      <main class="login panel">
        <h1>Signed in</h1>
        <p>
          <a href={p.next} id="sso-continue">Continue to the console</a>
        </p>
      </main>
    </Layout>
  );
}

function refusalText(reason: SsoRefusal, provider: string, name: string | null): string {
  switch (reason) {
    case "no_console_role":
      return `Your ${provider} account${
        name ? ` ${name}` : ""
      } is in none of the groups that may use this console. Ask an administrator to add you to one.`;
    case "name_taken":
      return `A console account named ${name} exists that is not your ${provider} account, so it is not ` +
        "taken over. Ask an administrator.";
    case "disabled":
      return "This console account is disabled.";
    case "bad_claims":
      return `${provider} did not send a usable user name for this console. Ask an administrator.`;
  }
}

/** The callback URL: oidc_redirect_url, or the address the browser used for the console. */
function redirectUrlOf(client: OidcClient, requestUrl: string): string {
  return client.config.redirectUrl ?? new URL(OIDC_CALLBACK_PATH, new URL(requestUrl).origin).toString();
}

export function oidcRoutes(
  deps: WebDeps,
  client: OidcClient,
  limits: AuthLimits,
  now: () => Date,
): Hono<AppEnv> {
  const secure = deps.secureCookies ?? false;
  const provider = client.config.providerName;
  const app = new Hono<AppEnv>();
  const failed = (c: Parameters<typeof clientIp>[0], reason: string, details: Record<string, unknown> = {}) =>
    writeAudit(deps.sql, {
      actor: "console:-",
      action: "console.login_failed",
      target: null,
      sourceIp: clientIp(c),
      success: false,
      details: { via: "oidc", reason, ...details },
    }, deps.nodeId);

  app.get("/login/oidc", async (c) => {
    const next = safeNext(c.req.query("next"));
    let started;
    try {
      started = await client.start(redirectUrlOf(client, c.req.url));
    } catch (e) {
      const message = e instanceof OidcError ? e.message : String(e);
      deps.log("warn", `oidc: sign-in not started: ${message}`);
      return htmlResponse(
        c,
        <SsoPage
          title="Single sign-on unavailable"
          status="error"
          message={`${provider} cannot be reached right now, so single sign-on is not possible. Try again later, or log in with a local account.`}
        />,
        503,
      );
    }
    setFlowCookie(c, await applianceKeyOf(deps), secure, {
      ...started.checks,
      next,
      expires: now().getTime() + FLOW_TTL_MS,
    });
    return c.redirect(started.url.toString(), 303);
  });

  app.get(OIDC_CALLBACK_PATH, async (c) => {
    const query = new URL(c.req.url).searchParams;
    const flow = takeFlowCookie(c, await applianceKeyOf(deps), secure, now().getTime());
    const refuse = async (reason: string, message: string, status = 400, details = {}) => {
      await failed(c, reason, details);
      return htmlResponse(
        c,
        <SsoPage title="Single sign-on failed" status="refused" message={message} />,
        status,
      );
    };
    if (!flow) {
      return await refuse(
        "no_flow",
        "This sign-in was not started here, took longer than ten minutes, or was already used. Start again from the login page.",
      );
    }
    const providerError = query.get("error");
    if (providerError !== null) {
      const code = providerError.slice(0, 64).replace(/[^A-Za-z0-9_.-]/g, "?");
      return await refuse("provider_error", `${provider} did not sign you in (${code}).`, 401, {
        error: code,
      });
    }
    if (query.get("state") !== flow.state) {
      return await refuse(
        "state_mismatch",
        "The answer from the provider does not belong to this sign-in (its state does not match). Start again from the login page.",
      );
    }
    let claims: Record<string, unknown>;
    try {
      claims = await client.finish(query, flow);
    } catch (e) {
      const oe = e instanceof OidcError ? e : new OidcError("bad_response", String(e));
      deps.log("warn", `oidc: sign-in failed: ${oe.message}`);
      return await refuse(
        oe.code,
        oe.code === "unreachable"
          ? `${provider} cannot be reached right now. Try again later, or log in with a local account.`
          : `${provider}'s answer could not be verified, so you are not signed in. Start again from the login page.`,
        oe.code === "unreachable" ? 503 : 401,
      );
    }
    const r = await ssoLogin(
      deps.sql,
      client.config,
      { claims, sourceIp: clientIp(c), userAgent: c.req.header("User-Agent") ?? null, next: flow.next },
      now(),
      limits,
      deps.nodeId,
    );
    if (r.ok) {
      setSessionCookie(c, secure, r.token, (r.expiresAt.getTime() - now().getTime()) / 1000);
      return htmlResponse(c, <ContinuePage next={safeNext(flow.next)} />);
    }
    if (r.reason === "code_needed") {
      return await codePage(c, deps.sql, { csrf: issueLoginToken(c, secure), challenge: r.challenge }, now());
    }
    if ("name" in r) {
      return htmlResponse(
        c,
        <SsoPage title="Not allowed" status="refused" message={refusalText(r.reason, provider, r.name)} />,
        403,
      );
    }
    return htmlResponse(
      c,
      <SsoPage title="Not allowed" status="refused" message="You are not signed in." />,
      403,
    );
  });

  return app;
}
