// End-to-end: the per-server password passthrough setting through the CLI (add, edit, show, list), its
// audit rows, and the policy snapshot the proxies decide with, against a real PostgreSQL database.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { listAudit } from "../db/audit.ts";
import { loadSnapshotInput } from "../db/snapshot_load.ts";

Deno.test("CLI: server --password-passthrough on|off, shown, listed, audited, in the snapshot", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir();
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  try {
    // the default is on (servers behave as before the setting existed)
    await cli.ok(["server", "add", "web1", "10.1.1.1"]);
    assert.match(await cli.ok(["server", "show", "web1"]), /password passthrough\s*│?\s*on/);
    await cli.ok(["server", "add", "web2", "10.1.1.2", "--password-passthrough", "off"]);
    assert.equal(
      (await cli.json<{ password_passthrough: boolean }>(["server", "show", "web2"])).password_passthrough,
      false,
    );
    await cli.ok(["server", "edit", "web1", "--password-passthrough", "OFF"]);
    assert.match(await cli.ok(["server", "show", "web1"]), /password passthrough\s*│?\s*off/);
    await cli.ok(["server", "edit", "web2", "--password-passthrough", "on"]);

    const list = await cli.json<{ name: string; password_passthrough: boolean }[]>(["server", "list"]);
    assert.deepEqual(list.map((s) => [s.name, s.password_passthrough]), [["web1", false], ["web2", true]]);
    assert.match(await cli.ok(["server", "list"]), /PASSTHROUGH\n.*\bweb1\b.* off\n.*\bweb2\b.* on\n/);

    const bad = await cli.run(["server", "edit", "web1", "--password-passthrough", "maybe"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--password-passthrough must be on or off/);
    assert.equal(
      (await cli.json<{ password_passthrough: boolean }>(["server", "show", "web1"])).password_passthrough,
      false,
      "a rejected edit changes nothing",
    );

    const rows = await listAudit(db.sql, { limit: 50 });
    const create = rows.find((r) => r.action === "server.create" && r.target === "web2")!;
    assert.equal(create.details.password_passthrough, false);
    const updates = rows.filter((r) => r.action === "server.update").map((r) => [r.target, r.details]);
    assert.deepEqual(updates.reverse(), [
      ["web1", { password_passthrough: false }],
      ["web2", { password_passthrough: true }],
    ]);

    const snap = await loadSnapshotInput(db.sql);
    assert.deepEqual(
      snap.servers.map((s) => [s.name, s.passwordPassthrough]).sort(),
      [["web1", false], ["web2", true]],
    );
  } finally {
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
