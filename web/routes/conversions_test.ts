// Route tests: the conversion queue page, Rush and Cancel (any console role, audited, CSRF-checked), and
// the raw recording download with byte ranges.
import assert from "node:assert/strict";
import { join } from "node:path";
import { addRecording } from "../../db/recordings.ts";
import { enqueueConversion, getConversion } from "../../db/conversions.ts";
import { claimNextConversion, heartbeatPool, reportConversionProgress } from "../../db/conversions_work.ts";
import { listAudit } from "../../db/audit.ts";
import { fixture, insertSession } from "../testing.ts";

async function setup() {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir, mp4Dir: join(dir, "mp4") });
  const recording = async (bytes = new Uint8Array(1000)) => {
    const s = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const path = join(dir, `${s.session_id}.rdprec`);
    await Deno.writeFile(path, bytes);
    const rid = await addRecording(fx.db.sql, { sessionRowId: s.id, kind: "rdp", channel: null, path });
    return { sid: s.session_id, rid, path };
  };
  const enqueue = async (rid: number) =>
    (await enqueueConversion(fx.db.sql, {
      recordingId: rid,
      sourceSize: 1000,
      sourceMtime: null,
      rush: false,
      requestedBy: "console:x",
      now: new Date(),
    })).job;
  return {
    fx,
    dir,
    recording,
    enqueue,
    async close() {
      await fx.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("conversions: an auditor sees the queue, rushes and cancels jobs; both are audited", async () => {
  const t = await setup();
  try {
    const [r1, r2, r3] = [await t.recording(), await t.recording(), await t.recording()];
    const [j1, j2, j3] = [await t.enqueue(r1.rid), await t.enqueue(r2.rid), await t.enqueue(r3.rid)];
    const a = await t.fx.as("auditor", "audrey");

    const q = await a.page("/recordings/queue");
    assert.equal(q.status, 200);
    assert.match(q.html, /No conversion pool is running/);
    assert.match(q.html, /hx-get="\/recordings\/queue" hx-trigger="every 2s"/);
    for (const [j, pos] of [[j1, 1], [j2, 2], [j3, 3]] as const) {
      assert.match(q.html, new RegExp(`<td>${j.id}<span class="muted">\\(#${pos}\\)`));
      assert.match(q.html, new RegExp(`id="rush-job-${j.id}"`));
    }
    assert.match(q.html, /href="\/recordings\/queue" class="active">Conversions</);

    const rushed = await a.post(`/recordings/jobs/${j3.id}/rush`, { back: "/recordings/queue" });
    await rushed.body?.cancel();
    assert.deepEqual([rushed.status, rushed.headers.get("Location")], [303, "/recordings/queue"]);
    assert.equal((await getConversion(t.fx.db.sql, j3.id))?.rush, true);
    assert.match(
      (await a.page("/recordings/queue")).html,
      new RegExp(`<td>${j3.id}<span class="muted">\\(#1\\)`),
    );

    // cancel a running job from the session page; the pool sees the state change
    const claimed = await claimNextConversion(t.fx.db.sql, { node: "n", lock: "slot", now: new Date() });
    assert.equal(claimed?.id, j3.id);
    await reportConversionProgress(t.fx.db.sql, j3.id, "slot", { progress: 30, etaSeconds: 90 }, new Date());
    await heartbeatPool(t.fx.db.sql, { poolId: "p", nodeId: "n", slots: 1 }, new Date());
    const sp = await a.page(`/sessions/${r3.sid}`);
    assert.match(sp.html, /<progress max="100" value="30" aria-label="conversion progress">30%<\/progress>/);
    assert.match(sp.html, new RegExp(`id="cancel-job-${j3.id}"`));
    assert.doesNotMatch(sp.html, new RegExp(`id="rush-job-${j3.id}"`), "a running job cannot be rushed");
    assert.match(sp.html, new RegExp(`href="/recordings/${r3.rid}/raw"`));
    assert.doesNotMatch((await a.page("/recordings/queue")).html, /No conversion pool is running/);

    const back = `/sessions/${r3.sid}`;
    const cancelled = await a.post(`/recordings/jobs/${j3.id}/cancel`, { back });
    await cancelled.body?.cancel();
    assert.equal(cancelled.headers.get("Location"), back);
    const row = await getConversion(t.fx.db.sql, j3.id);
    assert.deepEqual([row?.state, row?.cancelled_by], ["cancelled", "console:audrey"]);
    const again = await a.post(`/recordings/jobs/${j3.id}/cancel`, { back });
    await again.body?.cancel();
    assert.equal(again.headers.get("Location"), `${back}?convert_error=finished`);

    const events = await listAudit(t.fx.db.sql, { action: "recording." });
    assert.deepEqual(
      events.map((e) => [e.action, e.actor, e.details.job, e.details.rush ?? null]).reverse(),
      [["recording.convert", "console:audrey", j3.id, true], [
        "recording.convert_cancel",
        "console:audrey",
        j3.id,
        null,
      ]],
    );

    // refused: another site's form, a forged token, an unknown job, a foreign "back"
    const forged = await a.post(`/recordings/jobs/${j1.id}/cancel`, { _csrf: "nope" });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    const unknown = await a.post("/recordings/jobs/999999/cancel");
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const offsite = await a.post(`/recordings/jobs/${j1.id}/rush`, { back: "//evil.example/x" });
    await offsite.body?.cancel();
    assert.equal(offsite.headers.get("Location"), "/");
    const anon = await t.fx.client().post(`/recordings/jobs/${j1.id}/cancel`);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    assert.equal((await getConversion(t.fx.db.sql, j1.id))?.state, "pending");
  } finally {
    await t.close();
  }
});

Deno.test("conversions: the raw recording downloads whole or by byte ranges, and only from the recordings directory", async () => {
  const t = await setup();
  try {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const r = await t.recording(bytes);
    const a = await t.fx.as("auditor", "audrey");

    const full = await a.get(`/recordings/${r.rid}/raw`);
    assert.equal(full.status, 200);
    assert.match(
      full.headers.get("Content-Disposition")!,
      new RegExp(`attachment; filename="session-${r.sid}-${r.rid}\\.rdprec"`),
    );
    assert.equal(full.headers.get("Accept-Ranges"), "bytes");
    assert.equal(full.headers.get("Content-Length"), "70000");
    assert.deepEqual(await full.bytes(), bytes);

    const part = await a.get(`/recordings/${r.rid}/raw`, { Range: "bytes=65000-" });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("Content-Range"), "bytes 65000-69999/70000");
    assert.deepEqual(await part.bytes(), bytes.subarray(65000));
    const suffix = await a.get(`/recordings/${r.rid}/raw`, { Range: "bytes=-10" });
    assert.equal(suffix.status, 206);
    assert.deepEqual(await suffix.bytes(), bytes.subarray(69990));
    const bad = await a.get(`/recordings/${r.rid}/raw`, { Range: "bytes=70000-70010" });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("Content-Range"), "bytes */70000");
    await bad.body?.cancel();

    const downloads = await listAudit(t.fx.db.sql, { action: "recording.download" });
    assert.equal(downloads.length, 1, "resumed pieces are not separate downloads");
    assert.deepEqual([downloads[0].actor, downloads[0].target], ["console:audrey", r.sid]);

    // a row pointing outside the recordings directory is never served
    const outside = await Deno.makeTempFile();
    try {
      await t.fx.db.sql`UPDATE recordings SET path = ${outside} WHERE id = ${r.rid}`;
      const refused = await a.get(`/recordings/${r.rid}/raw`);
      assert.equal(refused.status, 404);
      await refused.body?.cancel();
    } finally {
      await Deno.remove(outside);
    }
    const none = await a.get("/recordings/424242/raw");
    assert.equal(none.status, 404);
    await none.body?.cancel();
  } finally {
    await t.close();
  }
});
