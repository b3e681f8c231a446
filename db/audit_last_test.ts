// An audit row holds the chain lock until its transaction commits (migration 013), so transactions write
// theirs last. Here a proxy-like transaction holds a server row (as a session insert's foreign key does) and
// then audits, while an admin deletes that server with its pool address: both must finish, no deadlock.
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { writeAudit } from "./audit.ts";
import { createServer, deleteServer } from "./servers.ts";

Deno.test("deleteServer with a pool address does not deadlock with a writer holding the server row", async () => {
  const db = await createTestDb();
  try {
    const s = await createServer(
      db.sql,
      { name: "web1", address: "10.0.0.1", poolIp: "127.0.2.1" },
      "test",
      "127.0.2.0/24",
    );
    assert.equal(s.pool_ip, "127.0.2.1");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const proxy = db.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM servers WHERE id = ${s.id} FOR KEY SHARE`;
      await held; // the admin's delete is under way meanwhile
      await writeAudit(tx, { actor: "alice", action: "ssh.access_granted", target: "web1", success: true });
    });
    await new Promise((r) => setTimeout(r, 100));
    const admin = deleteServer(db.sql, "web1", "admin");
    await new Promise((r) => setTimeout(r, 300)); // it waits for the row, holding nothing the proxy needs
    release();
    const [p, a] = await Promise.allSettled([proxy, admin]);
    assert.equal(p.status, "fulfilled", String((p as PromiseRejectedResult).reason));
    assert.equal(a.status, "fulfilled", String((a as PromiseRejectedResult).reason));
    const rows = await db.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE target = 'web1'
      AND action IN ('ssh.access_granted', 'pool.release', 'server.delete') ORDER BY id`;
    assert.deepEqual(rows.map((r) => r.action), ["ssh.access_granted", "pool.release", "server.delete"]);
  } finally {
    await db.close();
  }
});
