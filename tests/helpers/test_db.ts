// A real PostgreSQL for tests: one throwaway cluster per machine (started with the same embedded-cluster
// code the product uses), and one fresh database per test cloned from a migrated template.
import { connect, type Sql } from "../../db/client.ts";
import { startLocalPg } from "../../db/local_pg.ts";
import { migrate } from "../../db/migrate.ts";

export const TEST_PG_DIR = Deno.env.get("JUMPHOST_TEST_PG_DIR") ?? "/tmp/jumphost-test/pg";
const TEMPLATE = "jh_template";

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
  // the template is rebuilt once per test process so new migrations are always applied
  const admin = adminSql();
  try {
    await admin`SELECT pg_advisory_lock(42)`;
    await admin.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE}`);
    const t = adminSql(TEMPLATE);
    try {
      await migrate(t);
    } finally {
      await t.end();
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
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
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
