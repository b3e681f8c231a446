// The end-user portal under /portal: jump users log in with their jump password (and code) and see their
// own grants and sessions. Its cookie (jh_portal, Path=/portal) resolves only against portal_sessions, so
// a portal login never reaches a console page, and every query is by the logged-in user's id.
import { Hono } from "hono";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { writeAudit } from "../../db/audit.ts";
import { deletePortalSession, type PortalSession, resolvePortalSession } from "../../db/portal_sessions.ts";
import { portalGrantsOf, portalSessionsOf } from "../../db/portal_queries.ts";
import { createAccessRequest, listAccessRequests } from "../../db/access_requests.ts";
import { InputError } from "../../db/errors.ts";
import { parseMinutes, RequestInputError } from "../../policy/access_request.ts";
import { type AuthLimits, clientIp } from "../auth.ts";
import { checkLoginToken, checkSessionToken, issueLoginToken, PORTAL_LOGIN } from "../csrf.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { htmlResponse } from "../render.tsx";
import { applianceKeyOf } from "../secret.ts";
import { attemptPortalLogin } from "../portal/login.ts";
import { PortalHomePage, PortalLoginPage } from "../views/portal_views.tsx";

export const PORTAL_COOKIE = "jh_portal";

const MESSAGES = {
  bad_credentials: "Wrong name or password.",
  locked: "Too many failed logins for this account. Try again later.",
  source_blocked: "Too many failed logins from your address. Try again later.",
  disabled: "This account is disabled.",
  code_needed: "Enter the verification code from your authenticator (with your password again).",
  bad_code: "Wrong or already used verification code.",
  mfa_not_enrolled: "Your account needs a second factor that is not set up yet. Ask an administrator.",
} as const;

export function portalRoutes(deps: WebDeps, limits: AuthLimits, now: () => Date): Hono<AppEnv> {
  const secure = deps.secureCookies ?? false;
  const app = new Hono<AppEnv>();
  const cookieOpts = { path: "/portal", httpOnly: true, secure, sameSite: "Strict" as const };
  const sessionOf = async (c: Context<AppEnv>): Promise<PortalSession | null> => {
    const token = getCookie(c, PORTAL_COOKIE);
    if (!token) return null;
    const s = await resolvePortalSession(deps.sql, token, now(), limits);
    if (!s) deleteCookie(c, PORTAL_COOKIE, cookieOpts);
    return s;
  };
  const loginPage = (c: Context<AppEnv>, p: { name?: string; error?: string; info?: string }, status = 200) =>
    htmlResponse(
      c,
      <PortalLoginPage
        csrf={issueLoginToken(c, secure, PORTAL_LOGIN)}
        name={p.name ?? ""}
        error={p.error}
        info={p.info}
        dbDownSince={c.get("dbDownSince") ?? null}
      />,
      status,
    );

  app.get("/portal/login", (c) =>
    loginPage(c, {
      info: c.req.query("bye") === "1"
        ? "You are logged out."
        : c.req.query("expired") === "1"
        ? "Your session ended. Please log in again."
        : undefined,
    }));

  app.post("/portal/login", async (c) => {
    await checkLoginToken(c, PORTAL_LOGIN);
    const body = await c.req.parseBody();
    const field = (k: string) => typeof body[k] === "string" ? body[k] as string : "";
    const name = field("name").trim(), password = field("password"), code = field("code");
    if (name === "" || password === "" || password.length > 1024 || code.length > 64) {
      return loginPage(c, { name, error: MESSAGES.bad_credentials }, 400);
    }
    const r = await attemptPortalLogin(
      deps.sql,
      () => applianceKeyOf(deps),
      { name, password, code, sourceIp: clientIp(c), userAgent: c.req.header("User-Agent") ?? null },
      now(),
      limits,
      deps.nodeId,
      deps.directory ?? null,
    );
    if (!r.ok) {
      const status = r.reason === "locked" || r.reason === "source_blocked" ? 429 : 401;
      return loginPage(c, { name, error: MESSAGES[r.reason] }, status);
    }
    setCookie(c, PORTAL_COOKIE, r.token, {
      ...cookieOpts,
      maxAge: Math.max(1, Math.floor((r.expiresAt.getTime() - now().getTime()) / 1000)),
    });
    return c.redirect("/portal", 303);
  });

  const home = async (
    c: Context<AppEnv>,
    s: PortalSession,
    form: { values: Record<string, string>; error?: string; done?: string } = { values: {} },
    status = 200,
  ) => {
    const [grants, sessions, requests] = await Promise.all([
      portalGrantsOf(deps.sql, s.userId),
      portalSessionsOf(deps.sql, s.userId),
      listAccessRequests(deps.sql, { userId: s.userId, limit: 20 }),
    ]);
    return htmlResponse(
      c,
      <PortalHomePage
        userName={s.userName}
        csrf={s.csrfToken}
        jumpHost={new URL(c.req.url).hostname}
        grants={grants}
        sessions={sessions}
        requests={requests}
        requestForm={form}
        now={now()}
      />,
      status,
    );
  };

  app.get("/portal", async (c) => {
    const s = await sessionOf(c);
    if (!s) return c.redirect(`/portal/login?expired=${getCookie(c, PORTAL_COOKIE) ? 1 : 0}`, 303);
    const requested = c.req.query("requested");
    return await home(c, s, {
      values: {},
      done: requested && /^\d{1,12}$/.test(requested)
        ? `Request ${requested} sent to the approvers.`
        : undefined,
    });
  });

  // asking for access from the portal: the same request as at the SSH prompt (the same answer for a server
  // name that does not exist)
  app.post("/portal/requests", async (c) => {
    const s = await sessionOf(c);
    if (!s) return c.redirect("/portal/login?expired=1", 303);
    await checkSessionToken(c, s.csrfToken);
    const body = await c.req.parseBody();
    const field = (k: string) => typeof body[k] === "string" ? (body[k] as string).slice(0, 1000) : "";
    const values = {
      server: field("server").trim(),
      logins: field("logins"),
      minutes: field("minutes"),
      reason: field("reason"),
    };
    try {
      let minutes: number;
      try {
        minutes = parseMinutes(values.minutes);
      } catch (e) {
        if (e instanceof RequestInputError) throw new InputError("minutes", e.message);
        throw e;
      }
      const r = await createAccessRequest(deps.sql, {
        userId: s.userId,
        userName: s.userName,
        serverName: values.server,
        protocol: field("protocol") === "rdp" ? "rdp" : "ssh",
        logins: values.logins.split(","),
        minutes,
        reason: values.reason,
        sourceIp: clientIp(c),
        via: "portal",
        waitMinutes: deps.requestWaitMinutes ?? 10,
      });
      return c.redirect(`/portal?requested=${r.id}`, 303);
    } catch (e) {
      if (e instanceof InputError) return await home(c, s, { values, error: e.message }, 400);
      throw e;
    }
  });

  app.post("/portal/logout", async (c) => {
    const s = await sessionOf(c);
    if (!s) return c.redirect("/portal/login", 303);
    await checkSessionToken(c, s.csrfToken);
    await deletePortalSession(deps.sql, s.tokenHash);
    await writeAudit(deps.sql, {
      actor: `portal:${s.userName}`,
      action: "portal.logout",
      target: s.userName,
      sourceIp: clientIp(c),
      success: true,
    }, deps.nodeId);
    deleteCookie(c, PORTAL_COOKIE, cookieOpts);
    return c.redirect("/portal/login?bye=1", 303);
  });

  return app;
}
