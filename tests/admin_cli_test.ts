// End-to-end: `jumphost admin` against a real database; the printed password logs in to the console.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { listAudit } from "../db/audit.ts";
import { findConsoleUserByName } from "../db/console_users.ts";
import { verifyPassword } from "../policy/password.ts";

Deno.test("jumphost admin add prints a random password once; list and delete work; last admin stays", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url);
  try {
    const out = await cli.ok(["admin", "add", "root"]);
    const pw = /password: (\S+)/.exec(out)?.[1];
    assert.ok(pw && pw.length >= 16, out);
    const row = await findConsoleUserByName(db.sql, "root");
    assert.equal(row?.role, "admin");
    assert.ok(row!.password_hash.startsWith("scrypt$"));
    assert.ok(!row!.password_hash.includes(pw!));
    assert.ok(await verifyPassword(pw!, row!.password_hash));

    const second = await cli.json<{ password: string }>(["admin", "add", "carol", "--role", "auditor"]);
    assert.notEqual(second.password, pw, "passwords are random");
    const list = await cli.json<{ name: string; role: string }[]>(["admin", "list"]);
    assert.deepEqual(list.map((u) => [u.name, u.role]), [["carol", "auditor"], ["root", "admin"]]);
    assert.doesNotMatch(JSON.stringify(list), /scrypt/, "hashes never printed");

    const dup = await cli.run(["admin", "add", "root"]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const badRole = await cli.run(["admin", "add", "dave", "--role", "god"]);
    assert.equal(badRole.code, 2);
    const badName = await cli.run(["admin", "add", "<script>"]);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /console user name/);

    const last = await cli.run(["admin", "delete", "root"]);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /last active admin/);
    await cli.ok(["admin", "delete", "carol"]);
    const missing = await cli.run(["admin", "delete", "carol"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no console user/);

    const audit = (await listAudit(db.sql, { action: "console." })).map((a) => `${a.action} ${a.target}`)
      .sort();
    assert.deepEqual(audit, [
      "console.user_create carol",
      "console.user_create root",
      "console.user_delete carol",
    ]);
  } finally {
    await db.close();
  }
});
