// CSRF protection for every state-changing request: the Origin (when sent) must be this site, and a
// per-session token must come back in the form field `_csrf` or the X-CSRF-Token header (htmx).
// Before login there is no session, so the login form uses a double-submit cookie instead.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import { newToken } from "../db/console_sessions.ts";
import type { AppEnv } from "./deps.ts";

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const LOGIN_COOKIE = "jh_login_csrf";

export class CsrfError extends Error {
  constructor(readonly code: "origin" | "token") {
    super(code === "origin" ? "cross-site request refused" : "missing or invalid CSRF token");
    this.name = "CsrfError";
  }
}

function isSafeMethod(m: string): boolean {
  return m === "GET" || m === "HEAD" || m === "OPTIONS";
}

export function tokensEqual(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Browsers send Origin on cross-site POSTs; when present it must name this host. */
function checkOrigin(c: Context): void {
  const origin = c.req.header("Origin");
  if (origin === undefined) return;
  const host = c.req.header("Host") ?? new URL(c.req.url).host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new CsrfError("origin");
  }
  if (origin === "null" || originHost !== host) throw new CsrfError("origin");
}

async function submittedToken(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header("Content-Type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    // parseBody caches, so the route reads the same body again
    const body = await c.req.parseBody();
    const v = body[CSRF_FIELD];
    return typeof v === "string" ? v : undefined;
  }
  return undefined;
}

/** For routes behind requireSession: the token must equal the session's. */
export function csrfProtect(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!isSafeMethod(c.req.method)) {
      checkOrigin(c);
      const token = await submittedToken(c);
      if (!tokensEqual(token, c.get("session").csrfToken)) throw new CsrfError("token");
    }
    await next();
  };
}

/** For a session kept outside the console's (the portal): the token must equal `expected`. */
export async function checkSessionToken(c: Context, expected: string): Promise<void> {
  checkOrigin(c);
  if (!tokensEqual(await submittedToken(c), expected)) throw new CsrfError("token");
}

/** A login form's double-submit cookie: the console's at /login, the portal's at /portal/login. */
export interface LoginTokenScope {
  cookie: string;
  path: string;
}
const CONSOLE_LOGIN: LoginTokenScope = { cookie: LOGIN_COOKIE, path: "/login" };
export const PORTAL_LOGIN: LoginTokenScope = { cookie: "jh_portal_login_csrf", path: "/portal/login" };

/** The login form's token: a cookie and a hidden field that must match on POST. */
export function issueLoginToken(c: Context, secure: boolean, scope: LoginTokenScope = CONSOLE_LOGIN): string {
  const existing = getCookie(c, scope.cookie);
  const token = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newToken();
  setCookie(c, scope.cookie, token, {
    path: scope.path,
    httpOnly: true,
    secure,
    sameSite: "Strict",
    maxAge: 3600,
  });
  return token;
}

export async function checkLoginToken(c: Context, scope: LoginTokenScope = CONSOLE_LOGIN): Promise<void> {
  checkOrigin(c);
  if (!tokensEqual(await submittedToken(c), getCookie(c, scope.cookie))) throw new CsrfError("token");
}
