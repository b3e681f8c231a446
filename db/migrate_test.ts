import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { migrate } from "./migrate.ts";

Deno.test("migrate() is idempotent and records every version", async () => {
  const db = await createTestDb();
  try {
    assert.deepEqual(await migrate(db.sql), []);
    const rows = await db.sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
    assert.ok(rows.length >= 1);
    assert.equal(rows[0].version, 1);
  } finally {
    await db.close();
  }
});

Deno.test("schema rejects a policy whose until is before from", async () => {
  const db = await createTestDb();
  try {
    const [u] = await db.sql`INSERT INTO users (name) VALUES ('alice') RETURNING id`;
    const [s] = await db.sql`INSERT INTO servers (name, address) VALUES ('web1', '127.0.0.1') RETURNING id`;
    await assert.rejects(
      db.sql`INSERT INTO policies (user_id, server_id, valid_from, valid_until, created_by)
             VALUES (${u.id}, ${s.id}, now(), now() - interval '1 hour', 'test')`,
      /policies_check/,
    );
    await assert.rejects(
      db.sql`INSERT INTO servers (name, address, protocols) VALUES ('x', 'h', '{telnet}')`,
      /servers_protocols_check/,
    );
  } finally {
    await db.close();
  }
});
