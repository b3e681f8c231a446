// Route tests: an RDP session's recording is queued for MP4 conversion from its page, the progress shows
// (and refreshes itself), and the finished video is served with byte ranges.
import assert from "node:assert/strict";
import { join } from "node:path";
import { addRecording } from "../../db/recordings.ts";
import {
  claimNextConversion,
  finishConversion,
  reportConversionProgress,
} from "../../db/conversions_work.ts";
import { listAudit } from "../../db/audit.ts";
import { fixture, insertSession } from "../testing.ts";
import { gunzipSync } from "node:zlib";
import { writeSyntheticSession } from "../../recorder/convert/testdata/synth_session.ts";
import { decodeKeyframe } from "../../recorder/rdp_replay/keyframe.ts";

Deno.test("RDP recording: convert from the session page, progress, then play and download the MP4", async () => {
  const dir = await Deno.makeTempDir();
  const mp4Dir = join(dir, "mp4");
  await Deno.mkdir(mp4Dir);
  const fx = await fixture({ recordingsDir: dir, mp4Dir });
  try {
    const s = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const recPath = join(dir, "s.rdprec");
    await Deno.writeFile(recPath, new Uint8Array(1000));
    const rid = await addRecording(fx.db.sql, {
      sessionRowId: s.id,
      kind: "rdp",
      channel: null,
      path: recPath,
    });
    const a = await fx.as("auditor", "audrey");

    const page = await a.page(`/sessions/${s.session_id}`);
    assert.match(page.html, new RegExp(`id="convert-${rid}"`));
    const r = await a.post(`/sessions/${s.session_id}/recordings/${rid}/convert`, { rush: "on" });
    await r.body?.cancel();
    assert.equal(r.headers.get("Location"), `/sessions/${s.session_id}?convert=queued`);
    const queued = await a.page(`/sessions/${s.session_id}?convert=queued`);
    assert.match(queued.html, /queued for conversion/);
    assert.match(queued.html, /Conversion pending · urgent/);
    assert.match(
      queued.html,
      new RegExp(`hx-get="/sessions/${s.session_id}/recordings/${rid}/status" hx-trigger="every 2s"`),
    );
    const [ev] = await listAudit(fx.db.sql, { action: "recording.convert" });
    assert.equal(ev.actor, "console:audrey");
    assert.equal(ev.details.status, "queued");

    // a pool takes the job and reports progress: the polled fragment shows it
    const job = await claimNextConversion(fx.db.sql, { node: "n", lock: "slot-1", now: new Date() });
    assert.equal(job?.recording_id, rid);
    await reportConversionProgress(
      fx.db.sql,
      job!.id,
      "slot-1",
      { progress: 42.5, etaSeconds: 12 },
      new Date(),
    );
    const frag =
      await (await a.get(`/sessions/${s.session_id}/recordings/${rid}/status`, { "HX-Request": "true" }))
        .text();
    assert.match(frag, /Conversion running: 42% · about 12s left/);

    // done: the page plays the MP4, served with ranges for seeking
    const out = join(mp4Dir, `recording-${rid}-job-${job!.id}.mp4`);
    const bytes = new Uint8Array(5000).map((_, i) => i % 256);
    await Deno.writeFile(out, bytes);
    await finishConversion(fx.db.sql, job!.id, "slot-1", {
      outputPath: out,
      outputSize: 5000,
      width: 800,
      height: 600,
      frames: 10,
      durationMs: 4000,
    }, new Date());
    const done = await a.page(`/sessions/${s.session_id}`);
    assert.match(
      done.html,
      /<video controls preload="metadata" src="\/sessions\/[^"]+\/recordings\/\d+\/video"/,
    );
    const video = await a.get(`/sessions/${s.session_id}/recordings/${rid}/video`, {
      Range: "bytes=100-199",
    });
    assert.equal(video.status, 206);
    assert.equal(video.headers.get("Content-Type"), "video/mp4");
    assert.deepEqual(await video.bytes(), bytes.subarray(100, 200));
    const dl = await a.get(`/sessions/${s.session_id}/recordings/${rid}/video?download=1`);
    assert.match(dl.headers.get("Content-Disposition")!, /attachment; filename="session-.*\.mp4"/);
    assert.equal((await dl.bytes()).length, 5000);
    // the download is audited; the player's range request from byte 100 is a piece of a read, not one
    const reads = await fx.db.sql<{ target: string; details: Record<string, unknown> }[]>`
      SELECT target, details FROM audit_log WHERE action = 'recording.download' ORDER BY id`;
    assert.deepEqual(reads.map((r) => [r.target, r.details.format, r.details.via, r.details.recording]), [
      [s.session_id, "mp4", "download", rid],
    ]);

    // the recording must belong to the session in the URL
    const other = await insertSession(fx.db.sql, { protocol: "rdp" });
    const wrong = await a.get(`/sessions/${other.session_id}/recordings/${rid}/video`);
    assert.equal(wrong.status, 404);
    await wrong.body?.cancel();
    // the recording file gone: asking again says so
    await Deno.remove(recPath);
    const gone = await a.post(`/sessions/${s.session_id}/recordings/${rid}/convert`);
    await gone.body?.cancel();
    assert.equal(gone.headers.get("Location"), `/sessions/${s.session_id}?convert_error=no_file`);
    assert.match(
      (await a.page(`/sessions/${s.session_id}?convert_error=no_file`)).html,
      /missing on this node/,
    );
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RDP recording: the in-browser player's reads (ranges, index, keyframes) are served and audited", async () => {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir, rdpIndexDir: join(dir, "idx") });
  try {
    const s = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const other = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const recPath = join(dir, "s.rdprec");
    await writeSyntheticSession(recPath, { width: 320, height: 200, seconds: 30, seed: 3 });
    const size = (await Deno.stat(recPath)).size;
    const rid = await addRecording(fx.db.sql, {
      sessionRowId: s.id,
      kind: "rdp",
      channel: null,
      path: recPath,
    });
    const a = await fx.as("auditor", "audrey");
    const base = `/sessions/${s.session_id}/recordings/${rid}`;

    const page = await a.page(`/sessions/${s.session_id}`);
    assert.match(page.html, new RegExp(`id="rdp-player-${rid}" data-base="${base}"`));
    assert.match(page.html, /src="\/static\/rdp_player\.js\?v=/);

    const idx = await (await a.get(`${base}/index`)).json();
    assert.equal(idx.complete, true);
    assert.equal(idx.stop, null);
    assert.ok(idx.keyframes.length >= 2, JSON.stringify(idx.keyframes));
    assert.ok(idx.durationMs >= 29_000);

    const whole = await a.get(`${base}/raw`, { Range: "bytes=0-" });
    assert.equal(whole.status, 206);
    assert.equal((await whole.bytes()).length, size);
    const k = idx.keyframes[1];
    const rest = await a.get(`${base}/raw`, { Range: `bytes=${k.fileOffset}-` });
    assert.equal(rest.status, 206);
    assert.equal((await rest.bytes()).length, size - k.fileOffset);
    const kf = await a.get(`${base}/keyframes/1`);
    assert.equal(kf.status, 200);
    const snap = decodeKeyframe(gunzipSync(await kf.bytes()));
    assert.deepEqual([snap.width, snap.height], [320, 200]);
    for (const bad of [`${base}/keyframes/99`, `${base}/keyframes/x`]) {
      const r = await a.get(bad);
      await r.body?.cancel();
      assert.equal(r.status, 404, bad);
    }
    // the recording only through its own session
    const wrong = await a.get(`/sessions/${other.session_id}/recordings/${rid}/raw`);
    await wrong.body?.cancel();
    assert.equal(wrong.status, 404);

    // reading from the start and each keyframe are audited; the piece after a keyframe is part of that read
    const reads = await listAudit(fx.db.sql, { action: "recording.download" });
    assert.deepEqual(
      reads.map((r) => [r.actor, r.target, r.details.format, r.details.via, r.details.part ?? null]).sort(),
      [
        ["console:audrey", s.session_id, "rdp", "view", null],
        ["console:audrey", s.session_id, "rdp", "view", "keyframe"],
      ],
    );
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
