// console_sessions: logged-in browser sessions. The cookie holds a random token; the table holds its hash.
import { createHash, randomBytes } from "node:crypto";
import type { Sql } from "./client.ts";
import type { ConsoleRole } from "./console_users.ts";

export interface SessionLimits {
  /** logged out after this long without a request */
  idleMs: number;
  /** logged out this long after login, whatever the activity */
  absoluteMs: number;
}

export interface ConsoleSession {
  tokenHash: string;
  csrfToken: string;
  userId: number;
  userName: string;
  role: ConsoleRole;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  /** the account must choose its own password before anything else (see console_users) */
  mustChangePassword: boolean;
  /** the account itself must use a second factor (console_users.mfa_required) */
  mfaRequired: boolean;
  /** the account has an active (confirmed) TOTP factor or a passkey */
  mfaEnrolled: boolean;
  /** the account is a single sign-on (OpenID Connect) account (migration 017) */
  sso: boolean;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** A new login's cookie token, CSRF token and absolute end (console and portal sessions alike). */
export function newSessionTokens(now: Date, limits: SessionLimits) {
  return { token: newToken(), csrfToken: newToken(), expiresAt: new Date(now.getTime() + limits.absoluteMs) };
}

export async function createConsoleSession(
  sql: Sql,
  input: {
    userId: number;
    sourceIp: string | null;
    userAgent: string | null;
    now: Date;
    limits: SessionLimits;
  },
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const { token, csrfToken, expiresAt } = newSessionTokens(input.now, input.limits);
  await sql`INSERT INTO console_sessions
      (token_hash, console_user_id, csrf_token, source_ip, user_agent, created_at, last_seen_at, expires_at)
    VALUES (${hashToken(token)}, ${input.userId}, ${csrfToken}, ${input.sourceIp},
            ${input.userAgent?.slice(0, 300) ?? null}, ${input.now}, ${input.now}, ${expiresAt})`;
  return { token, csrfToken, expiresAt };
}

interface Row {
  token_hash: string;
  csrf_token: string;
  console_user_id: number;
  name: string;
  role: ConsoleRole;
  active: boolean;
  must_change_password: boolean;
  mfa_required: boolean;
  mfa_enrolled: boolean;
  sso: boolean;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/**
 * The live session for a cookie token, or null when unknown, expired (idle or absolute) or its user
 * is disabled. An expired session is deleted. `touch` false leaves the idle clock alone (background polls).
 */
export async function resolveConsoleSession(
  sql: Sql,
  token: string,
  now: Date,
  limits: SessionLimits,
  touch = true,
): Promise<ConsoleSession | null> {
  if (token.length < 20 || token.length > 100) return null;
  const h = hashToken(token);
  const [r] = await sql<Row[]>`
    SELECT s.token_hash, s.csrf_token, s.console_user_id, u.name, u.role, u.active,
           u.must_change_password, s.created_at, s.last_seen_at, s.expires_at, u.mfa_required, u.oidc_subject IS NOT NULL AS sso,
           (EXISTS (SELECT 1 FROM totp_factors f WHERE f.console_user_id = u.id AND f.confirmed_at IS NOT NULL)
             OR EXISTS (SELECT 1 FROM console_passkeys k WHERE k.console_user_id = u.id)) AS mfa_enrolled
    FROM console_sessions s JOIN console_users u ON u.id = s.console_user_id
    WHERE s.token_hash = ${h}`;
  if (!r) return null;
  const t = now.getTime();
  if (!r.active || t >= r.expires_at.getTime() || t - r.last_seen_at.getTime() >= limits.idleMs) {
    await sql`DELETE FROM console_sessions WHERE token_hash = ${h}`;
    return null;
  }
  // one write per 10 s at most keeps idle tracking accurate without a write per request
  if (touch && t - r.last_seen_at.getTime() > 10_000) {
    await sql`UPDATE console_sessions SET last_seen_at = ${now} WHERE token_hash = ${h}`;
  }
  return {
    tokenHash: h,
    csrfToken: r.csrf_token,
    userId: r.console_user_id,
    userName: r.name,
    role: r.role,
    createdAt: r.created_at,
    lastSeenAt: touch ? now : r.last_seen_at,
    expiresAt: r.expires_at,
    mustChangePassword: r.must_change_password,
    mfaRequired: r.mfa_required,
    mfaEnrolled: r.mfa_enrolled,
    sso: r.sso,
  };
}

/**
 * Whether a session (by token hash) is still live, by the same rules as resolveConsoleSession but without
 * touching it: long-lived responses re-check their session with this.
 */
export async function consoleSessionLive(
  sql: Sql,
  tokenHash: string,
  now: Date,
  limits: SessionLimits,
): Promise<boolean> {
  const idleBefore = new Date(now.getTime() - limits.idleMs);
  const [r] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n
    FROM console_sessions s JOIN console_users u ON u.id = s.console_user_id
    WHERE s.token_hash = ${tokenHash} AND u.active AND s.expires_at > ${now} AND s.last_seen_at > ${idleBefore}`;
  return r.n > 0;
}

export async function deleteConsoleSession(sql: Sql, tokenHash: string): Promise<void> {
  await sql`DELETE FROM console_sessions WHERE token_hash = ${tokenHash}`;
}

/** Removes sessions past either limit; returns how many. */
export async function purgeConsoleSessions(sql: Sql, now: Date, limits: SessionLimits): Promise<number> {
  const idleBefore = new Date(now.getTime() - limits.idleMs);
  const r =
    await sql`DELETE FROM console_sessions WHERE expires_at <= ${now} OR last_seen_at <= ${idleBefore}`;
  return r.count;
}
