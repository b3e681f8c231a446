// nla_throttle: failed NLA logons at the jump, counted per jump user and per source address, each with a
// temporary block (like the console's, db/console_throttle.ts). The RDP proxy asks nlaBlock() before it
// checks a password, calls recordNlaFailure() after a wrong one and clearNlaUserFailures() after a right
// one. A success clears the user's count only: one good account must not reset a source guessing others.
import type { Sql } from "./client.ts";
import type { SourceThrottleRule } from "./console_throttle.ts";

export type { SourceThrottleRule as ThrottleRule } from "./console_throttle.ts";

export interface NlaThrottleRules {
  user: SourceThrottleRule;
  source: SourceThrottleRule;
}

export const DEFAULT_NLA_THROTTLE: NlaThrottleRules = {
  user: { windowMs: 15 * 60_000, maxFailures: 5, blockMs: 15 * 60_000 },
  source: { windowMs: 15 * 60_000, maxFailures: 20, blockMs: 15 * 60_000 },
};

export interface NlaAttempt {
  /** the jump user the client named (counted whether or not it exists: guessing names costs too) */
  userName: string | null;
  sourceIp: string;
}

export interface NlaBlock {
  scope: "user" | "source";
  until: Date;
}

/** Longer than any jump user name: a client cannot fill the table with huge keys. */
const MAX_KEY = 128;

function keys(a: NlaAttempt): { kind: "user" | "source"; key: string }[] {
  const out: { kind: "user" | "source"; key: string }[] = [{ kind: "source", key: a.sourceIp }];
  if (a.userName) out.unshift({ kind: "user", key: a.userName.slice(0, MAX_KEY) });
  return out;
}

/** A block in force at `now` on this user or this source (the user's first), or null. */
export async function nlaBlock(sql: Sql, a: NlaAttempt, now: Date): Promise<NlaBlock | null> {
  for (const k of keys(a)) {
    const [r] = await sql<{ locked_until: Date | null }[]>`
      SELECT locked_until FROM nla_throttle WHERE kind = ${k.kind} AND key = ${k.key}`;
    if (r?.locked_until && r.locked_until > now) return { scope: k.kind, until: r.locked_until };
  }
  return null;
}

/** Counts one failed logon; returns the blocks this failure started (none, user, source or both). */
export async function recordNlaFailure(
  sql: Sql,
  a: NlaAttempt,
  now: Date,
  rules: NlaThrottleRules = DEFAULT_NLA_THROTTLE,
): Promise<NlaBlock[]> {
  const started: NlaBlock[] = [];
  for (const k of keys(a)) {
    const rule = rules[k.kind];
    const windowStart = new Date(now.getTime() - rule.windowMs);
    // a failure outside the window starts a new count
    const [r] = await sql<{ failures: number }[]>`
      INSERT INTO nla_throttle AS t (kind, key, failures, window_start)
      VALUES (${k.kind}, ${k.key}, 1, ${now})
      ON CONFLICT (kind, key) DO UPDATE SET
        failures = CASE WHEN t.window_start < ${windowStart} THEN 1 ELSE t.failures + 1 END,
        window_start = CASE WHEN t.window_start < ${windowStart} THEN ${now} ELSE t.window_start END
      RETURNING failures`;
    if (r.failures < rule.maxFailures) continue;
    const until = new Date(now.getTime() + rule.blockMs);
    await sql`UPDATE nla_throttle SET locked_until = ${until}, failures = 0, window_start = ${now}
      WHERE kind = ${k.kind} AND key = ${k.key}`;
    started.push({ scope: k.kind, until });
  }
  return started;
}

/** After a successful logon: the user's count starts again (the source's does not). */
export async function clearNlaUserFailures(sql: Sql, userName: string): Promise<void> {
  await sql`DELETE FROM nla_throttle WHERE kind = 'user' AND key = ${userName.slice(0, MAX_KEY)}`;
}
