// Route test: a server group's keep-files option set from its console page (CSRF, validated, audited).
import assert from "node:assert/strict";
import { fixture } from "../testing.ts";
import { createGroup } from "../../db/groups.ts";
import { keepFilesOfGroup } from "../../db/file_keeping.ts";

Deno.test("server group page: keep files on with a cap, a bad cap refused, user groups have no such form", async () => {
  const fx = await fixture();
  try {
    await createGroup(fx.db.sql, "server", { name: "linux" }, "test");
    await createGroup(fx.db.sql, "user", { name: "ops" }, "test");
    const a = await fx.as("admin");
    const page = await a.page("/groups/server/linux");
    assert.match(page.html, /id="keep-files"/);
    assert.doesNotMatch((await a.page("/groups/user/ops")).html, /id="keep-files"/);

    const ok = await a.post("/groups/server/linux/keep-files", { keep_files: "on", keep_files_max_mb: "25" });
    assert.equal(ok.status, 303);
    assert.deepEqual(await keepFilesOfGroup(fx.db.sql, "linux"), { keep_files: true, keep_files_max_mb: 25 });
    const bad = await a.post("/groups/server/linux/keep-files", { keep_files: "on", keep_files_max_mb: "0" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /size cap/);
    const off = await a.post("/groups/server/linux/keep-files", { keep_files_max_mb: "25" });
    assert.equal(off.status, 303);
    assert.equal((await keepFilesOfGroup(fx.db.sql, "linux")).keep_files, false);
    const noCsrf = await a.post("/groups/server/linux/keep-files", { _csrf: "x", keep_files: "on" });
    assert.equal(noCsrf.status, 403);
    await noCsrf.body?.cancel();

    const rows = await fx.db.sql<{ details: Record<string, unknown> }[]>`
      SELECT details FROM audit_log WHERE action = 'group.update' AND target = 'linux' ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.details.keep_files, r.details.keep_files_max_mb]), [[true, 25], [
      false,
      25,
    ]]);
  } finally {
    await fx.close();
  }
});
