// The console shows tamper evidence: the audit page the chain's state (verified, broken at row N), the
// session page each recording's seal (verified, broken, unsealed).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fixture, insertSession } from "../testing.ts";
import { addRecording, finishRecording } from "../../db/recordings.ts";
import { loadSigningKey } from "../../core/signing_key.ts";
import { sealRecording } from "../../recorder/seal.ts";
import { writeCheckpoint } from "../../db/audit_checkpoint.ts";

Deno.test("console: audit chain state and recording seals", async () => {
  const dataDir = await Deno.makeTempDir();
  const fx = await fixture({ dataDir });
  try {
    const key = await loadSigningKey(dataDir);
    const auditor = await fx.as("auditor", "aud");
    await writeCheckpoint(fx.db.sql, key, "test-node");

    let p = await auditor.page("/audit");
    assert.equal(p.status, 200);
    assert.match(p.html, /id="chain-state" data-state="verified"/);
    assert.match(p.html, /latest signed checkpoint at row \d+/);

    // a recording sealed at close, one never sealed
    const s = await insertSession(fx.db.sql, { session_id: "sess-tamper-1" });
    const path = join(dataDir, "s-1.cast");
    await Deno.writeTextFile(path, '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "hello"]\n', {
      mode: 0o600,
    });
    const sealed = await addRecording(fx.db.sql, {
      sessionRowId: s.id,
      kind: "asciicast",
      channel: "0",
      path,
    });
    await finishRecording(fx.db.sql, sealed, (await Deno.stat(path)).size, new Date());
    await sealRecording(fx.db.sql, key, "test-node", sealed);
    const other = join(dataDir, "s-2.cast");
    await Deno.writeTextFile(other, "{}\n", { mode: 0o600 });
    await addRecording(fx.db.sql, { sessionRowId: s.id, kind: "asciicast", channel: "1", path: other });

    p = await auditor.page("/sessions/sess-tamper-1");
    assert.equal(p.status, 200);
    const states = [...p.html.matchAll(/class="badge (\w+) seal-state"[^>]*>(\w+)</g)].map((m) => m[2]);
    assert.deepEqual(states, ["verified", "unsealed"]);

    const bytes = await Deno.readFile(path);
    bytes[5] ^= 1;
    await Deno.writeFile(path, bytes);
    p = await auditor.page("/sessions/sess-tamper-1");
    assert.match(
      p.html,
      /badge bad">broken<\/span> the file&#x27;s content was altered|broken<\/span> the file's content was altered/,
    );

    // an audit row edited by hand: the audit page says where the chain breaks (after its cache expires)
    const [{ id }] = await fx.db.sql<{ id: string }[]>`SELECT min(id)::text AS id FROM audit_log`;
    await fx.db.sql`UPDATE audit_log SET actor = 'mallory' WHERE id = ${id}`;
    fx.clock.now = new Date(Date.now() + 60_000);
    p = await auditor.page("/audit"); // still the last result, while a new one is computed
    for (let i = 0; i < 50 && !/data-state="broken"/.test(p.html); i++) {
      await new Promise((r) => setTimeout(r, 100));
      p = await auditor.page("/audit");
    }
    assert.match(p.html, /data-state="broken"/);
    assert.match(p.html, new RegExp(`broken at row ${id}<`));
    assert.match(p.html, new RegExp(`row ${id} \\(.*\\) was edited`));
  } finally {
    await fx.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
