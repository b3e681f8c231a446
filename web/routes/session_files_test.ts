// Route test: a kept file (a server group's keep-files option) on the session page and its download, only
// through a session that lists it as kept, for roles with "audit", every download audited.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fixture, insertSession } from "../testing.ts";
import { keptFilePath } from "../../recorder/file_store.ts";

Deno.test("kept files: listed with their SHA-256, downloaded by auditors (audited), refused otherwise", async () => {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir });
  try {
    const content = new TextEncoder().encode("the uploaded file\n");
    const sha = createHash("sha256").update(content).digest("hex");
    const path = keptFilePath(dir, sha)!;
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, content);
    const other = "ab".repeat(32);
    await Deno.mkdir(join(keptFilePath(dir, other)!, ".."), { recursive: true });
    await Deno.writeTextFile(keptFilePath(dir, other)!, "another session's file");
    const s = await insertSession(fx.db.sql, {});
    const transfers = [
      { protocol: "scp", op: "upload", path: "/tmp/up.txt", bytes: content.length, sha256: sha, kept: true },
      {
        protocol: "sftp",
        op: "read",
        path: "/big.iso",
        bytes: 3 * 2 ** 20,
        sha256: "cd".repeat(32),
        kept: false,
        not_kept: "over_cap",
        cap_bytes: 2 ** 20,
      },
    ];
    await fx.db.sql`UPDATE sessions SET metadata = ${fx.db.sql.json({ transfers })} WHERE id = ${s.id}`;

    const a = await fx.as("auditor");
    const page = await a.page(`/sessions/${s.session_id}`);
    assert.match(page.html, /<h2>Transfers<\/h2>/);
    assert.ok(page.html.includes(sha), "the SHA-256 is shown");
    assert.ok(page.html.includes(`href="/sessions/${s.session_id}/files/${sha}"`), "a download link");
    assert.match(page.html, /not kept: over the cap \(1\.0 MiB\)/);

    const dl = await a.get(`/sessions/${s.session_id}/files/${sha}`);
    assert.equal(dl.status, 200);
    assert.match(dl.headers.get("Content-Disposition")!, new RegExp(`attachment; filename="${sha}"`));
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), content);

    // a hash the session did not keep (even one stored for another session), or not a hash: not found
    for (const bad of [other, "cd".repeat(32), "..%2F..%2Fetc%2Fpasswd", sha.toUpperCase()]) {
      const r = await a.get(`/sessions/${s.session_id}/files/${bad}`);
      assert.equal(r.status, 404, bad);
      await r.body?.cancel();
    }

    const reads = await fx.db.sql<{ actor: string; target: string; details: Record<string, unknown> }[]>`
      SELECT actor, target, details FROM audit_log WHERE action = 'recording.download' ORDER BY id`;
    assert.deepEqual(reads.map((r) => [r.target, r.details.format, r.details.sha256, r.details.via]), [
      [s.session_id, "file", sha, "download"],
    ]);
    assert.ok(reads[0].actor.length > 0);
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
