// portal_sessions: jump users logged in to the end-user portal (migration 022). Kept apart from console
// sessions on purpose: a portal cookie resolves only here, so it can never open an admin page.
import type { Sql } from "./client.ts";
import { hashToken, newSessionTokens, type SessionLimits } from "./console_sessions.ts";

export interface PortalSession {
  tokenHash: string;
  csrfToken: string;
  userId: number;
  userName: string;
  expiresAt: Date;
}

export async function createPortalSession(
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
  await sql`INSERT INTO portal_sessions
      (token_hash, user_id, csrf_token, source_ip, user_agent, created_at, last_seen_at, expires_at)
    VALUES (${hashToken(token)}, ${input.userId}, ${csrfToken}, ${input.sourceIp},
            ${input.userAgent?.slice(0, 300) ?? null}, ${input.now}, ${input.now}, ${expiresAt})`;
  return { token, csrfToken, expiresAt };
}

/** The live portal session of a cookie token; null (and deleted) when expired or its user is disabled. */
export async function resolvePortalSession(
  sql: Sql,
  token: string,
  now: Date,
  limits: SessionLimits,
): Promise<PortalSession | null> {
  if (token.length < 20 || token.length > 100) return null;
  const h = hashToken(token);
  const [r] = await sql<
    {
      csrf_token: string;
      user_id: number;
      name: string;
      active: boolean;
      last_seen_at: Date;
      expires_at: Date;
    }[]
  >`SELECT s.csrf_token, s.user_id, u.name, u.active, s.last_seen_at, s.expires_at
    FROM portal_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ${h}`;
  if (!r) return null;
  const t = now.getTime();
  if (!r.active || t >= r.expires_at.getTime() || t - r.last_seen_at.getTime() >= limits.idleMs) {
    await sql`DELETE FROM portal_sessions WHERE token_hash = ${h}`;
    return null;
  }
  if (t - r.last_seen_at.getTime() > 10_000) {
    await sql`UPDATE portal_sessions SET last_seen_at = ${now} WHERE token_hash = ${h}`;
  }
  return {
    tokenHash: h,
    csrfToken: r.csrf_token,
    userId: r.user_id,
    userName: r.name,
    expiresAt: r.expires_at,
  };
}

export async function deletePortalSession(sql: Sql, tokenHash: string): Promise<void> {
  await sql`DELETE FROM portal_sessions WHERE token_hash = ${tokenHash}`;
}

/** Until when the portal refuses this jump user after wrong passwords; null when it does not. */
export async function portalLockedUntil(sql: Sql, userId: number, now: Date): Promise<Date | null> {
  const [r] = await sql<{ locked_until: Date | null }[]>`
    SELECT locked_until FROM portal_account_failures WHERE user_id = ${userId}`;
  return r?.locked_until && r.locked_until > now ? r.locked_until : null;
}

/** Counts a wrong password or code; returns the lock's end when this failure locked the account. */
export async function recordPortalFailure(
  sql: Sql,
  userId: number,
  now: Date,
  rule: { maxFailures: number; lockMs: number },
): Promise<Date | null> {
  const lockUntil = new Date(now.getTime() + rule.lockMs);
  const [r] = await sql<{ just_locked: boolean }[]>`
    INSERT INTO portal_account_failures AS f (user_id, failures) VALUES (${userId}, 1)
    ON CONFLICT (user_id) DO UPDATE SET
      failures = CASE WHEN f.failures + 1 >= ${rule.maxFailures} THEN 0 ELSE f.failures + 1 END,
      locked_until = CASE WHEN f.failures + 1 >= ${rule.maxFailures} THEN ${lockUntil} ELSE f.locked_until END
    RETURNING (locked_until IS NOT NULL AND locked_until = ${lockUntil}) AS just_locked`;
  return r?.just_locked ? lockUntil : null;
}

export async function clearPortalFailures(sql: Sql, userId: number): Promise<void> {
  await sql`DELETE FROM portal_account_failures WHERE user_id = ${userId}`;
}
