// End-to-end: `jumphost admin reset-password` against a real PostgreSQL database.
import assert from "node:assert/strict";
import { listAudit } from "../db/audit.ts";
import { createConsoleSession } from "../db/console_sessions.ts";
import { findConsoleUserByName } from "../db/console_users.ts";
import { verifyPassword } from "../policy/password.ts";
import { cliFor } from "./helpers/cli.ts";
import { createTestDb } from "./helpers/test_db.ts";

Deno.test("admin reset-password prints a new random password once, ends console sessions, is audited", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url);
  try {
    const created = await cli.json<{ password: string }>(["admin", "add", "ops1", "--role", "operator"]);
    const user = (await findConsoleUserByName(db.sql, "ops1"))!;
    const now = new Date();
    await createConsoleSession(db.sql, {
      userId: user.id,
      sourceIp: "192.0.2.4",
      userAgent: null,
      now,
      limits: { idleMs: 60_000, absoluteMs: 3_600_000 },
    });

    const out = await cli.ok(["admin", "reset-password", "ops1"]);
    assert.match(out, /^console user ops1: password reset, 1 console session\(s\) ended$/m);
    const password = /^password: ([A-Za-z0-9_-]{20})$/m.exec(out)?.[1];
    assert.ok(password, out);
    const after = (await findConsoleUserByName(db.sql, "ops1"))!;
    assert.ok(await verifyPassword(password, after.password_hash));
    assert.ok(!(await verifyPassword(created.password, after.password_hash)));
    const [{ n }] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM console_sessions WHERE console_user_id = ${user.id}`;
    assert.equal(n, 0);

    const again = await cli.json<{ name: string; password: string; sessions_ended: number }>([
      "admin",
      "reset-password",
      "ops1",
    ]);
    assert.equal(again.name, "ops1");
    assert.equal(again.sessions_ended, 0);
    assert.notEqual(again.password, password);

    const rows = await listAudit(db.sql, { action: "console.password_reset" });
    assert.equal(rows.length, 2);
    assert.match(rows[0].actor, /^cli:/);
    assert.equal(rows[0].target, "ops1");
    assert.equal(rows[0].source_ip, null);
    assert.ok(!JSON.stringify(rows).includes(again.password));

    const ghost = await cli.run(["admin", "reset-password", "ghost"]);
    assert.notEqual(ghost.code, 0);
    assert.match(ghost.stderr, /no console user "ghost"/);
    assert.equal(ghost.stderr.trim().split("\n").length, 1);
    const usage = await cli.run(["admin", "reset-password"]);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /NAME/);
  } finally {
    await db.close();
  }
});
