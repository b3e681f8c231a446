// Console authentication: roles and permissions, the login decision with throttling, session cookies.
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Sql } from "../db/client.ts";
import { writeAudit } from "../db/audit.ts";
import {
  type ConsoleRole,
  type ConsoleUserWithHash,
  findConsoleUserById,
  findConsoleUserByName,
  recordAccountFailure,
  recordAccountSuccess,
  rehashConsolePassword,
} from "../db/console_users.ts";
import { createConsoleSession, resolveConsoleSession } from "../db/console_sessions.ts";
import { createMfaChallenge, findMfaChallenge, takeMfaChallenge } from "../db/console_mfa_challenges.ts";
import { totpFactorOf, verifySecondFactor } from "../db/totp.ts";
import { hasPasskey } from "../db/console_passkeys.ts";
import type { SecretKey } from "../core/secret_box.ts";
import { clearSourceFailures, recordSourceFailure, sourceBlockedUntil } from "../db/console_throttle.ts";
import { hashPassword, needsRehash, verifyPassword } from "../policy/password.ts";
import type { LdapConfig } from "../core/ldap/config.ts";
import { isDirectoryConsoleUser, upsertDirectoryConsoleUser } from "../db/console_directory.ts";
import { directoryConsoleRole } from "./directory_login.ts";
import { canonicalIp } from "./client_ip.ts";
import type { AppEnv, AuthLimits } from "./deps.ts";

export type { AuthLimits };

export type Permission =
  | "view" // dashboard, sessions, recordings
  | "audit" // audit log and exports
  | "manage" // users, servers, groups, policies, explain access
  | "kill" // end a live session
  | "console_users"; // console accounts

const ROLE_PERMISSIONS: Record<ConsoleRole, readonly Permission[]> = {
  admin: ["view", "audit", "manage", "kill", "console_users"],
  operator: ["view", "audit", "manage", "kill"],
  auditor: ["view", "audit"],
};

export function can(role: ConsoleRole, p: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.includes(p) ?? false;
}

export const DEFAULT_LIMITS: AuthLimits = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3600_000,
  account: { maxFailures: 5, lockMs: 15 * 60_000 },
  source: { windowMs: 15 * 60_000, maxFailures: 20, blockMs: 15 * 60_000 },
  recheckMs: 5_000,
};

export function resolveLimits(partial: Partial<AuthLimits> | undefined): AuthLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}

/** The cookie's base name; over TLS it is sent as __Host-jh_session (Secure, Path=/, no Domain). */
export const SESSION_COOKIE = "jh_session";

export function readSessionCookie(c: Context, secure: boolean): string | undefined {
  return secure ? getCookie(c, SESSION_COOKIE, "host") : getCookie(c, SESSION_COOKIE);
}

export type LoginResult =
  | { ok: true; token: string; csrfToken: string; expiresAt: Date; role: ConsoleRole; next?: string }
  | { ok: false; reason: "bad_credentials" | "locked" | "source_blocked" | "disabled" }
  /** the password was right; the account has TOTP: the verification code comes next with this challenge */
  | { ok: false; reason: "code_needed"; challenge: string };

export type CodeResult =
  | LoginResult
  | { ok: false; reason: "bad_code"; challenge: string }
  | { ok: false; reason: "challenge_expired" };

// verifying against a real hash when the account does not exist keeps the response time the same
let dummyHash: Promise<string> | null = null;

export interface LoginInput {
  name: string;
  password: string;
  sourceIp: string | null;
  userAgent: string | null;
  /** where to go after the login (kept with a verification-code challenge) */
  next?: string;
}

/** Checks a login attempt, applies throttling and lockout, writes the audit record, opens a session. */
export async function attemptLogin(
  sql: Sql,
  input: LoginInput,
  now: Date,
  limits: AuthLimits,
  nodeId: string,
  directory: LdapConfig | null = null,
): Promise<LoginResult> {
  const name = input.name.slice(0, 100);
  const audit: Audit = (action, ok, details = {}) =>
    writeAudit(sql, {
      actor: `console:${name || "-"}`,
      action,
      target: name || null,
      sourceIp: input.sourceIp,
      success: ok,
      details,
    }, nodeId);

  if (input.sourceIp) {
    const until = await sourceBlockedUntil(sql, input.sourceIp, now);
    if (until) {
      await audit("console.login_failed", false, { reason: "source_blocked", until: until.toISOString() });
      return { ok: false, reason: "source_blocked" };
    }
  }
  let user = await findConsoleUserByName(sql, name);
  if (user && user.locked_until && user.locked_until > now) {
    // refused before the password is looked at: the same answer for a right and a wrong one, so the lock
    // is no oracle and guessing stops while it lasts
    await audit("console.login_failed", false, { reason: "locked" });
    return { ok: false, reason: "locked" };
  }
  let passwordOk: boolean;
  if (directory && (!user || await isDirectoryConsoleUser(sql, user.id))) {
    // a directory account: the directory checks the password and its groups give the role
    const role = await directoryConsoleRole(directory, name, input.password);
    if (role.ok) {
      await upsertDirectoryConsoleUser(sql, name, role.dn, role.role, `directory:${nodeId}`);
      user = await findConsoleUserByName(sql, name);
    } else if (role.dn !== null) await audit("console.login_failed", false, { reason: "no_console_role" });
    passwordOk = role.ok && user !== null;
  } else {
    const hash = user?.password_hash ?? await (dummyHash ??= hashPassword(crypto.randomUUID()));
    passwordOk = (await verifyPassword(input.password, hash)) && user !== null;
  }
  let reason: "bad_credentials" | "disabled" | null = null;
  if (!user || !passwordOk) reason = "bad_credentials";
  else if (!user.active) reason = "disabled";

  if (reason !== null) {
    await audit("console.login_failed", false, { reason: user ? reason : "unknown_user" });
    // counted per account whatever the source address, so spreading guesses over addresses gains nothing
    if (user && reason === "bad_credentials") {
      const lockedUntil = await recordAccountFailure(sql, user.id, now, limits.account);
      if (lockedUntil) {
        await audit("console.locked", false, { scope: "account", until: lockedUntil.toISOString() });
      }
    }
    if (input.sourceIp && !passwordOk) {
      const blocked = await recordSourceFailure(sql, input.sourceIp, now, limits.source);
      if (blocked) await audit("console.locked", false, { scope: "source", until: blocked.toISOString() });
    }
    return { ok: false, reason };
  }
  if (needsRehash(user!.password_hash)) {
    // the cost was raised since this hash was stored: keep the same password at the current cost
    await rehashConsolePassword(sql, user!.id, user!.password_hash, await hashPassword(input.password));
  }
  const factor = await totpFactorOf(sql, { kind: "console", id: user!.id, name: user!.name });
  if (factor?.confirmed || await hasPasskey(sql, user!.id)) {
    // the account's failure count stays until the code is right: guessing codes counts towards the lock
    const challenge = await createMfaChallenge(sql, user!.id, input.next ?? "/", now);
    return { ok: false, reason: "code_needed", challenge };
  }
  return await openSession(sql, user!, input, now, limits, audit, {});
}

export type Audit = (
  action: "console.login" | "console.login_failed" | "console.locked" | "console.mfa_failed",
  ok: boolean,
  details?: Record<string, unknown>,
) => Promise<void>;

/** Opens a console session for an authenticated account (password, code or single sign-on) and audits it. */
export async function openSession(
  sql: Sql,
  user: ConsoleUserWithHash,
  input: Omit<LoginInput, "name" | "password">,
  now: Date,
  limits: AuthLimits,
  audit: Audit,
  details: Record<string, unknown>,
): Promise<LoginResult> {
  await recordAccountSuccess(sql, user.id, now);
  if (input.sourceIp) await clearSourceFailures(sql, input.sourceIp);
  const s = await createConsoleSession(sql, {
    userId: user.id,
    sourceIp: input.sourceIp,
    userAgent: input.userAgent,
    now,
    limits,
  });
  await audit("console.login", true, { role: user.role, ...details });
  return { ok: true, token: s.token, csrfToken: s.csrfToken, expiresAt: s.expiresAt, role: user.role };
}

export interface CodeInput {
  challenge: string;
  code: string;
  sourceIp: string | null;
  userAgent: string | null;
}

/**
 * The second step of a login with TOTP: the challenge from the password step and a code (or a recovery
 * code). A wrong code counts towards the account lockout like a wrong password; a locked account is
 * refused before the code is looked at. On success the challenge is consumed and a session opened.
 */
export async function completeCodeLogin(
  sql: Sql,
  keys: SecretKey,
  input: CodeInput,
  now: Date,
  limits: AuthLimits,
  nodeId: string,
): Promise<CodeResult> {
  const found = await findMfaChallenge(sql, input.challenge, now);
  if (!found) return { ok: false, reason: "challenge_expired" };
  const user = await findConsoleUserById(sql, found.userId);
  if (!user) return { ok: false, reason: "challenge_expired" };
  const audit: Audit = (action, ok, details = {}) =>
    writeAudit(sql, {
      actor: `console:${user.name}`,
      action,
      target: user.name,
      sourceIp: input.sourceIp,
      success: ok,
      details,
    }, nodeId);
  if (user.locked_until && user.locked_until > now) {
    await audit("console.login_failed", false, { reason: "locked", step: "code" });
    return { ok: false, reason: "locked" };
  }
  if (!user.active) {
    await audit("console.login_failed", false, { reason: "disabled", step: "code" });
    return { ok: false, reason: "disabled" };
  }
  const owner = { kind: "console" as const, id: user.id, name: user.name };
  const r = await verifySecondFactor(sql, keys, owner, input.code.slice(0, 64), now);
  if (!r.ok) {
    await audit("console.mfa_failed", false, { reason: r.reason });
    const lockedUntil = await recordAccountFailure(sql, user.id, now, limits.account);
    if (lockedUntil) {
      await audit("console.locked", false, { scope: "account", until: lockedUntil.toISOString() });
      await takeMfaChallenge(sql, input.challenge);
      return { ok: false, reason: "locked" };
    }
    return { ok: false, reason: "bad_code", challenge: input.challenge };
  }
  if (!(await takeMfaChallenge(sql, input.challenge))) return { ok: false, reason: "challenge_expired" };
  const opened = await openSession(sql, user, input, now, limits, audit, { mfa: r.method });
  return opened.ok ? { ...opened, next: found.next } : opened;
}

export function setSessionCookie(c: Context, secure: boolean, token: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    secure,
    sameSite: "Strict",
    maxAge: Math.max(1, Math.floor(maxAgeSeconds)),
    ...(secure ? { prefix: "host" as const } : {}),
  });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure, ...(secure ? { prefix: "host" as const } : {}) });
}

/**
 * The client address: the socket peer Deno.serve passed in, or, when that peer is one of the
 * trusted_proxies, the right-most untrusted X-Forwarded-For address (web/client_ip.ts; the app's first
 * middleware works it out once per request). Canonical like the proxies' audit rows. Null when unknown
 * (then only account lockout applies).
 */
export function clientIp(c: Context<AppEnv>): string | null {
  const resolved = c.get("clientIp");
  return resolved !== undefined ? resolved : peerAddress(c.env?.remoteAddr?.hostname);
}

export function peerAddress(hostname: unknown): string | null {
  return canonicalIp(hostname);
}

/**
 * Requires a live console session. Pages redirect to the login form; htmx requests get HX-Redirect,
 * SSE/JSON callers a plain 401. Background polls (X-JH-Poll) do not extend the idle timeout.
 */
export function requireSession(
  sql: Sql,
  now: () => Date,
  limits: AuthLimits,
  secure: boolean,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = readSessionCookie(c, secure);
    const background = c.req.header("X-JH-Poll") === "1" || c.req.header("Accept") === "text/event-stream";
    const session = token ? await resolveConsoleSession(sql, token, now(), limits, !background) : null;
    if (!session) {
      if (token) clearSessionCookie(c, secure);
      const url = new URL(c.req.url);
      const next = c.req.method === "GET" ? url.pathname + url.search : "/";
      const login = `/login?expired=${token ? 1 : 0}&next=${encodeURIComponent(next)}`;
      if (c.req.header("HX-Request")) {
        c.header("HX-Redirect", login);
        return c.body(null, 401);
      }
      if (c.req.method !== "GET" || c.req.header("Accept") === "text/event-stream") {
        return c.text("login required", 401);
      }
      return c.redirect(login, 303);
    }
    c.set("session", session);
    await next();
  };
}

/**
 * Only a same-origin path is accepted as a post-login destination: no control characters or whitespace
 * (browsers drop a tab, so "/\t/evil" would become "//evil"), no backslash, and after URL normalisation
 * the same origin as a base that cannot be reached.
 */
export function safeNext(next: string | undefined | null): string {
  // deno-lint-ignore no-control-regex
  if (!next || next.length > 2048 || /[\x00-\x20\x7f\\]/.test(next) || !next.startsWith("/")) return "/";
  const base = "https://jumphost.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return "/";
  }
  if (url.origin !== base || next.startsWith("//")) return "/";
  const path = url.pathname + url.search + url.hash;
  if (
    path.startsWith("/login") || path.startsWith("/logout") || !path.startsWith("/") || path.startsWith("//")
  ) {
    return "/";
  }
  return path;
}
