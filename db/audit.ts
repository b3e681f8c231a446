// audit_log: append-only record of every change and every access decision.
import type { Sql, TxSql } from "./client.ts";
import type { AuditEvent } from "./audit_events.ts";

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  source_ip: string | null;
  success: boolean;
  details: Record<string, unknown>;
  node_id: string | null;
}

/**
 * Appends one row. Its chaining trigger (migration 013) holds the chain head's row lock until the transaction
 * commits: inside a transaction write audit rows LAST, after every other write, or two transactions that
 * lock the same rows in the other order deadlock.
 */
export async function writeAudit(
  sql: Sql | TxSql,
  e: AuditEvent,
  nodeId: string | null = null,
): Promise<void> {
  await sql`INSERT INTO audit_log (at, event_id, actor, action, target, source_ip, success, details, node_id)
    VALUES (COALESCE(${e.at ?? null}::timestamptz, now()), ${e.id ?? null}::uuid, ${e.actor}, ${e.action},
            ${e.target ?? null}, ${e.sourceIp ?? null}, ${e.success},
            ${sql.json((e.details ?? {}) as never)}, ${nodeId})
    ON CONFLICT (event_id) DO NOTHING`;
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  actor?: string;
  /** exact action, or a prefix ending with "." (e.g. "ssh.") */
  action?: string;
  /** matches actor, target or details->>'user' */
  user?: string;
  success?: boolean;
  sourceIp?: string;
  /** keyset pagination: rows strictly older than this (at, id) */
  before?: { at: Date; id: number };
  /** keyset pagination by the last row seen: exact even when `at` has sub-millisecond precision */
  beforeId?: number;
  limit?: number;
}

/** The filter's conditions, `AND …` each; the user filter is left to the caller (see listAudit). */
function conditions(sql: Sql, f: AuditFilter) {
  const actionPrefix = f.action?.endsWith(".") ? f.action + "%" : null;
  return sql`
      ${f.since ? sql`AND at >= ${f.since}` : sql``}
      ${f.until ? sql`AND at < ${f.until}` : sql``}
      ${f.actor ? sql`AND actor = ${f.actor}` : sql``}
      ${f.action && !actionPrefix ? sql`AND action = ${f.action}` : sql``}
      ${actionPrefix ? sql`AND action LIKE ${actionPrefix}` : sql``}
      ${f.success !== undefined ? sql`AND success = ${f.success}` : sql``}
      ${f.sourceIp ? sql`AND source_ip <<= ${f.sourceIp}::inet` : sql``}
      ${f.before ? sql`AND (at, id) < (${f.before.at}, ${f.before.id})` : sql``}
      ${
    f.beforeId !== undefined
      ? sql`AND (at, id) < (SELECT at, id FROM audit_log WHERE id = ${f.beforeId})`
      : sql``
  }`;
}

export function listAudit(sql: Sql, f: AuditFilter = {}): Promise<AuditRow[]> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 10_000);
  const columns = sql`id, at, actor, action, target, host(source_ip) AS source_ip, success, details, node_id`;
  if (!f.user) {
    return sql<AuditRow[]>`SELECT ${columns} FROM audit_log WHERE true ${conditions(sql, f)}
      ORDER BY at DESC, id DESC LIMIT ${limit}`;
  }
  // "a user's rows" are those where the user acts, is the target, or is named in the details. As one OR the
  // planner must collect every match before sorting (seconds for a busy user in 10M rows); as three
  // newest-first walks of their own indexes, each stopping at `limit`, it reads at most 3 × limit rows.
  const branch = (match: ReturnType<Sql>) =>
    sql`(SELECT id FROM audit_log WHERE ${match} ${
      conditions(sql, f)
    } ORDER BY at DESC, id DESC LIMIT ${limit})`;
  return sql<AuditRow[]>`SELECT ${columns} FROM audit_log WHERE id IN (
      ${branch(sql`actor = ${f.user}`)}
      UNION ${branch(sql`target = ${f.user}`)}
      UNION ${branch(sql`details->>'user' = ${f.user}`)})
    ORDER BY at DESC, id DESC LIMIT ${limit}`;
}
