// console_mfa_challenges: a console login whose password was right, waiting for its verification code.
// The browser holds the random token (a hidden form field); only its hash is stored. Short-lived.
import type { Sql } from "./client.ts";
import { hashToken, newToken } from "./console_sessions.ts";

export const CHALLENGE_TTL_MS = 5 * 60_000;

export async function createMfaChallenge(sql: Sql, userId: number, next: string, now: Date): Promise<string> {
  const token = newToken();
  // an account has at most a few open challenges: older ones of this account and expired ones go
  await sql`DELETE FROM console_mfa_challenges WHERE expires_at < ${now}`;
  await sql`INSERT INTO console_mfa_challenges (token_hash, console_user_id, next_path, expires_at)
    VALUES (${hashToken(token)}, ${userId}, ${next}, ${new Date(now.getTime() + CHALLENGE_TTL_MS)})`;
  return token;
}

/** The account and destination of a live challenge, or null (unknown or expired). */
export async function findMfaChallenge(
  sql: Sql,
  token: string,
  now: Date,
): Promise<{ userId: number; next: string } | null> {
  if (token.length < 20 || token.length > 100) return null;
  const [r] = await sql<{ console_user_id: number; next_path: string }[]>`
    SELECT console_user_id, next_path FROM console_mfa_challenges
    WHERE token_hash = ${hashToken(token)} AND expires_at > ${now}`;
  return r ? { userId: Number(r.console_user_id), next: r.next_path } : null;
}

/** Consumes a challenge; false when it was already used (a concurrent submit). */
export async function takeMfaChallenge(sql: Sql, token: string): Promise<boolean> {
  const r = await sql`DELETE FROM console_mfa_challenges WHERE token_hash = ${hashToken(token)} RETURNING 1`;
  return r.length > 0;
}
