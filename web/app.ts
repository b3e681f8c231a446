// createApp(deps) → the console as a Hono app. No globals: tests build one per database and call app.request().
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { peerAddress, requireSession, resolveLimits } from "./auth.ts";
import { csrfProtect } from "./csrf.ts";
import type { AppEnv, WebDeps } from "./deps.ts";
import { clientIpBehindProxies, parseTrustedProxies } from "./client_ip.ts";
import { errorPage, HttpError, mapError } from "./errors.tsx";
import { mountStatic } from "./static.ts";
import { requireOwnPassword } from "./password_gate.ts";
import { requireMfaEnrolment } from "./mfa_gate.ts";
import { loginRoutes } from "./routes/login.tsx";
import { oidcRoutes } from "./routes/oidc.tsx";
import { portalRoutes } from "./routes/portal.tsx";
import type { RouteCtx } from "./routes/ctx.ts";
import { dashboardRoutes } from "./routes/dashboard.tsx";
import { sessionFileRoutes } from "./routes/session_files.tsx";
import { sessionRoutes } from "./routes/sessions.tsx";
import { auditRoutes } from "./routes/audit.tsx";
import { searchRoutes } from "./routes/search.tsx";
import { consoleUserRoutes } from "./routes/console_users.tsx";
import { userRoutes } from "./routes/users.tsx";
import { serverRoutes } from "./routes/servers.tsx";
import { groupRoutes } from "./routes/groups.tsx";
import { policyRoutes } from "./routes/policies.tsx";
import { accessRoutes } from "./routes/access.tsx";
import { rdpVideoRoutes } from "./routes/rdp_video.tsx";
import { conversionRoutes } from "./routes/conversions.tsx";
import { accountRoutes } from "./routes/account.tsx";
import { webhookRoutes } from "./routes/webhooks.tsx";
import { requestRoutes } from "./routes/requests.tsx";
import { nodeRoutes } from "./routes/nodes.tsx";
import { createOpsApp } from "./ops/mod.ts";
import { OpenStreams } from "./session_watch.ts";

export function createApp(deps: WebDeps): Hono<AppEnv> {
  const now = deps.now ?? (() => new Date());
  const limits = resolveLimits(deps.limits);
  const secure = deps.secureCookies ?? false;
  const streams = new OpenStreams();
  const ctx: RouteCtx = { deps, now, limits, streams };
  const app = new Hono<AppEnv>();

  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      // the recording player compiles a small WebAssembly module and runs a blob: worker
      scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
      workerSrc: ["'self'", "blob:"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", "data:"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    strictTransportSecurity: secure ? "max-age=31536000" : false,
    referrerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
  }));
  app.use(bodyLimit({
    maxSize: 1024 * 1024,
    onError: () => {
      throw new HttpError(413, "The request body is too large.");
    },
  }));

  // the client's address, once: the socket peer, or behind trusted_proxies the X-Forwarded-For client
  const trustedProxies = parseTrustedProxies(deps.trustedProxies ?? []);
  app.use(async (c, next) => {
    const peer = peerAddress(c.env?.remoteAddr?.hostname);
    c.set("clientIp", clientIpBehindProxies(peer, c.req.header("X-Forwarded-For"), trustedProxies));
    await next();
  });
  // during a database outage every page carries a banner (serve's probe knows; nothing is asked per request)
  app.use(async (c, next) => {
    const h = deps.dbHealth?.();
    c.set("dbDownSince", h && !h.up ? h.since : null);
    await next();
  });
  mountStatic(app);
  // /healthz and /metrics: answered before (and without) a console session
  if (deps.ops) {
    app.route(
      "/",
      createOpsApp({
        sql: deps.sql,
        nodeId: deps.nodeId,
        dbHealth: deps.dbHealth,
        ...deps.ops,
      }) as unknown as Hono<AppEnv>,
    );
  } else app.get("/healthz", (c) => c.text("ok"));
  app.route("/", loginRoutes(deps, limits, now, streams));
  if (deps.oidc) app.route("/", oidcRoutes(deps, deps.oidc, limits, now));
  // the end-user portal: its own login and cookie, answered before the console's session check
  app.route("/", portalRoutes(deps, limits, now));

  const authed = new Hono<AppEnv>();
  authed.use(
    requireSession(deps.sql, now, limits, secure),
    csrfProtect(),
    requireOwnPassword(),
    requireMfaEnrolment(deps.consoleMfa ?? "optional", deps.oidc?.config.trustMfa ?? false),
  );
  authed.route("/", dashboardRoutes(ctx));
  authed.route("/sessions", rdpVideoRoutes(ctx));
  authed.route("/sessions", sessionFileRoutes(ctx));
  authed.route("/sessions", sessionRoutes(ctx));
  authed.route("/recordings", conversionRoutes(ctx));
  authed.route("/users", userRoutes(ctx));
  authed.route("/servers", serverRoutes(ctx));
  authed.route("/groups", groupRoutes(ctx));
  authed.route("/policies", policyRoutes(ctx));
  authed.route("/access", accessRoutes(ctx));
  authed.route("/nodes", nodeRoutes(ctx));
  authed.route("/audit", auditRoutes(ctx));
  authed.route("/search", searchRoutes(ctx));
  authed.route("/console-users", consoleUserRoutes(ctx));
  authed.route("/webhooks", webhookRoutes(ctx));
  authed.route("/requests", requestRoutes(ctx));
  authed.route("/account", accountRoutes(ctx));
  authed.notFound((c) => errorPage(c, 404, "No such page."));
  app.route("/", authed);

  app.notFound((c) => errorPage(c, 404, "No such page."));
  app.onError((e, c) => {
    const m = mapError(e);
    if (m.level === "error") {
      const ref = crypto.randomUUID().slice(0, 8);
      deps.log(
        "error",
        `web: ${c.req.method} ${new URL(c.req.url).pathname} failed (ref ${ref}): ${
          e instanceof Error ? e.stack ?? e.message : String(e)
        }`,
      );
      return errorPage(c, 500, `${m.message} Reference: ${ref}.`);
    }
    if (m.level === "warn") {
      deps.log("warn", `web: ${c.req.method} ${new URL(c.req.url).pathname}: ${m.message}`);
    }
    return errorPage(c, m.status, m.message);
  });
  return app;
}
