// Reading the audit log in id order for forwarders (syslog): committed rows only, so an event from a
// transaction that rolled back is never forwarded.
import type { Sql } from "./client.ts";
import type { AuditRow } from "./audit.ts";

export async function maxAuditId(sql: Sql): Promise<number> {
  const [r] = await sql<{ id: number }[]>`SELECT COALESCE(max(id), 0)::bigint AS id FROM audit_log`;
  return r.id;
}

export function auditRowsAfter(sql: Sql, afterId: number, limit = 500): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    SELECT id, at, actor, action, target, host(source_ip) AS source_ip, success, details, node_id
    FROM audit_log WHERE id > ${afterId} ORDER BY id LIMIT ${Math.min(Math.max(limit, 1), 5000)}`;
}
