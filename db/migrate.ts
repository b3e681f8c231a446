// Forward-only numbered migrations (db/migrations/NNN_name.sql), applied under an advisory lock so
// several nodes starting together apply each file exactly once.
import type { Sql } from "./client.ts";

const LOCK_KEY = 7_346_012_001; // arbitrary, constant for this program

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = new URL("./migrations/", import.meta.url)): Promise<Migration[]> {
  const out: Migration[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(e.name);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2], sql: await Deno.readTextFile(new URL(e.name, dir)) });
  }
  out.sort((a, b) => a.version - b.version);
  out.forEach((m, i) => {
    if (i > 0 && out[i - 1].version === m.version) throw new Error(`duplicate migration number ${m.version}`);
  });
  return out;
}

export async function migrate(sql: Sql, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? await loadMigrations();
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set(
      (await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version),
    );
    for (const m of all) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
  });
  return applied;
}
