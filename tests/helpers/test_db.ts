// A real PostgreSQL for tests: one throwaway cluster per machine (started with the same embedded-cluster
// code the product uses), and one fresh database per test cloned from a migrated template.
import { connect, type Sql } from "../../db/client.ts";
import { startLocalPg } from "../../db/local_pg.ts";
import { loadMigrations, migrate } from "../../db/migrate.ts";

export const TEST_PG_DIR = Deno.env.get("JUMPHOST_TEST_PG_DIR") ?? "/tmp/jumphost-test/pg";
// one template per set of migrations, shared by concurrent test processes and never dropped under them
let template = "";

export interface TestDb {
  sql: Sql;
  name: string;
  /** a URL that `jumphost --database-url` accepts for this database */
  url: string;
  close(): Promise<void>;
}

let ready: Promise<void> | null = null;

function adminSql(database = "postgres"): Sql {
  return connect({ socketDir: TEST_PG_DIR, database }, { max: 1 });
}

async function prepare(): Promise<void> {
  Deno.mkdirSync(TEST_PG_DIR.replace(/\/[^/]+$/, ""), { recursive: true, mode: 0o711 });
  await startLocalPg({ dir: TEST_PG_DIR, database: "postgres" });
  const migrations = await loadMigrations();
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(migrations))),
  );
  template = "jh_tpl_" + [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const admin = adminSql();
  try {
    await admin`SELECT pg_advisory_lock(42)`;
    const exists = await admin`SELECT 1 FROM pg_database WHERE datname = ${template}`;
    if (exists.length === 0) {
      const building = template + "_new";
      await admin.unsafe(`DROP DATABASE IF EXISTS ${building}`);
      await admin.unsafe(`CREATE DATABASE ${building}`);
      const t = adminSql(building);
      try {
        await migrate(t, migrations);
      } finally {
        await t.end();
      }
      await admin.unsafe(`ALTER DATABASE ${building} RENAME TO ${template}`);
    }
    await admin`SELECT pg_advisory_unlock(42)`;
  } finally {
    await admin.end();
  }
}

export function testDbUrl(name: string): string {
  return `postgres://jumphost@localhost/${name}?host=${encodeURIComponent(TEST_PG_DIR)}`;
}

export async function createTestDb(): Promise<TestDb> {
  ready ??= prepare();
  await ready;
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = adminSql();
  try {
    for (let attempt = 0;; attempt++) {
      try {
        await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (e) {
        // 55006: another test process is cloning the template at this instant
        if ((e as { code?: string }).code !== "55006" || attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const sql = connect({ socketDir: TEST_PG_DIR, database: name }, { max: 4 });
  return {
    sql,
    name,
    url: testDbUrl(name),
    async close() {
      await sql.end({ timeout: 5 });
      const a = adminSql();
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
