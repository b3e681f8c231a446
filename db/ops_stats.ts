// Read-only figures for /healthz and /metrics.
import type { Sql } from "./client.ts";

export async function pingDb(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}

export async function activeSessionsByProtocol(
  sql: Sql,
  nodeId: string,
): Promise<{ protocol: string; count: number }[]> {
  return await sql<{ protocol: string; count: number }[]>`
    SELECT protocol, count(*)::int AS count FROM sessions
    WHERE is_active AND node_id = ${nodeId} GROUP BY protocol ORDER BY protocol`;
}

/** bytes of recordings known to the database (all nodes: recordings may live on shared storage) */
export async function storedRecordingBytes(sql: Sql): Promise<number> {
  const [r] = await sql<{ bytes: number }[]>`SELECT COALESCE(sum(size), 0)::bigint AS bytes FROM recordings`;
  return r.bytes;
}

/** applied migration versions, or [] when the schema was never migrated */
export async function appliedMigrations(sql: Sql): Promise<number[]> {
  const [t] = await sql<{ t: string | null }[]>`SELECT to_regclass('schema_migrations')::text AS t`;
  if (!t.t) return [];
  const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
  return rows.map((r) => r.version);
}
