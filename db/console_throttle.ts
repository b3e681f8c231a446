// console_login_throttle: failed console logins per source address, with a temporary block.
import type { Sql } from "./client.ts";

export interface SourceThrottleRule {
  /** failures counted within this window */
  windowMs: number;
  maxFailures: number;
  blockMs: number;
}

/** The end of a block on this source address, when one is in force at `now`. */
export async function sourceBlockedUntil(sql: Sql, sourceIp: string, now: Date): Promise<Date | null> {
  const [r] = await sql<{ locked_until: Date | null }[]>`
    SELECT locked_until FROM console_login_throttle WHERE source_ip = ${sourceIp}::inet`;
  return r?.locked_until && r.locked_until > now ? r.locked_until : null;
}

/** Counts one failure; returns the block end when this failure started a block. */
export async function recordSourceFailure(
  sql: Sql,
  sourceIp: string,
  now: Date,
  rule: SourceThrottleRule,
): Promise<Date | null> {
  const windowStart = new Date(now.getTime() - rule.windowMs);
  const blockUntil = new Date(now.getTime() + rule.blockMs);
  // a failure outside the window starts a new count
  const [r] = await sql<{ failures: number; locked_until: Date | null }[]>`
    INSERT INTO console_login_throttle AS t (source_ip, failures, window_start)
    VALUES (${sourceIp}::inet, 1, ${now})
    ON CONFLICT (source_ip) DO UPDATE SET
      failures = CASE WHEN t.window_start < ${windowStart} THEN 1 ELSE t.failures + 1 END,
      window_start = CASE WHEN t.window_start < ${windowStart} THEN ${now} ELSE t.window_start END
    RETURNING failures, locked_until`;
  if (r.failures < rule.maxFailures) return null;
  await sql`UPDATE console_login_throttle SET locked_until = ${blockUntil}, failures = 0, window_start = ${now}
    WHERE source_ip = ${sourceIp}::inet`;
  return blockUntil;
}

export async function clearSourceFailures(sql: Sql, sourceIp: string): Promise<void> {
  // only called after a successful login, which a block in force would have refused first
  await sql`DELETE FROM console_login_throttle WHERE source_ip = ${sourceIp}::inet`;
}
