import assert from "node:assert/strict";
import { createTestDb, type TestDb } from "../../tests/helpers/test_db.ts";
import {
  cancelConversion,
  type ConversionRow,
  enqueueConversion,
  getConversion,
} from "../../db/conversions.ts";
import { claimNextConversion } from "../../db/conversions_work.ts";
import { encodeMeta, openRecordingWriter, RecordType } from "../rdp_file.ts";
import { type ConversionServiceOptions, startConversionService } from "./pool.ts";
import { requestConversion } from "./request.ts";
import { writeSyntheticSession } from "./testdata/synth_session.ts";
import { rdpRecordingRow } from "./testdata/rows.ts";
import type { LogLike } from "./job_runner.ts";

interface Env {
  db: TestDb;
  dir: string;
  logs: string[];
  log: LogLike;
}

async function withEnv(fn: (e: Env) => Promise<void>): Promise<void> {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-pool-" });
  const logs: string[] = [];
  const rec = (level: string) => (msg: string, f?: Record<string, unknown>) =>
    logs.push(`${level} ${msg} ${JSON.stringify(f ?? {})}`);
  const log = { debug: rec("debug"), info: rec("info"), warn: rec("warn"), error: rec("error") };
  try {
    await fn({ db, dir, logs, log });
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function start(e: Env, node = "n1", workers = 2, opts: ConversionServiceOptions = {}) {
  return startConversionService(
    { config: { nodeId: node, dataDir: e.dir, conversionWorkers: workers }, sql: e.db.sql, log: e.log },
    { pollMs: 200, reportMs: 100, heartbeatMs: 500, ...opts },
  );
}

async function until<T>(
  what: string,
  f: () => Promise<T | null | false | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateIs = (sql: TestDb["sql"], id: number, ...states: string[]) => async () => {
  const j = await getConversion(sql, id);
  return j && states.includes(j.state) ? j : null;
};

async function synth(e: Env, name: string, w: number, h: number, seconds: number, seed = 1) {
  const path = `${e.dir}/${name}.rdprec`;
  await writeSyntheticSession(path, { width: w, height: h, seconds, seed });
  return { path, ...(await rdpRecordingRow(e.db.sql, path)) };
}

const ask = (sql: TestDb["sql"], recordingId: number, rush = false) =>
  requestConversion(sql, { recordingId, rush, actor: "test", now: new Date() });

async function probe(
  path: string,
): Promise<{ codec_name: string; width: number; height: number; pix_fmt: string }> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-show_entries", "stream=codec_name,width,height,pix_fmt", "-of", "json", path],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).streams[0];
}

Deno.test("the pool converts a queued recording into an MP4, reports progress, and reuses it until the recording changes", () =>
  withEnv(async (e) => {
    const r = await synth(e, "a", 800, 600, 45);
    const asked = await ask(e.db.sql, r.recordingId);
    assert.equal(asked.status, "queued");
    const pool = await start(e);
    try {
      const seen: [number, number | null][] = [];
      const done = await until("done", async () => {
        const j = await getConversion(e.db.sql, asked.job.id);
        if (j?.state === "running") seen.push([j.progress, j.eta_seconds]);
        return j?.state === "done" ? j : null;
      });
      assert.ok(
        seen.some(([p, eta]) => p > 0 && p < 100 && eta !== null),
        `progress seen: ${JSON.stringify(seen)}`,
      );
      assert.deepEqual([done.progress, done.attempts, done.worker_node], [100, 1, "n1"]);
      assert.deepEqual([done.video_width, done.video_height, done.duration_ms], [800, 600, 45_000]);
      const st = await Deno.stat(done.output_path!);
      assert.equal(st.mode! & 0o777, 0o640);
      assert.equal((await Deno.stat(`${e.dir}/mp4`)).mode! & 0o777, 0o750);
      assert.equal(st.size, done.output_size);
      assert.deepEqual(await probe(done.output_path!), {
        codec_name: "h264",
        width: 800,
        height: 600,
        pix_fmt: "yuv420p",
      });
      assert.equal(done.source_size, (await Deno.stat(r.path)).size);

      assert.equal((await ask(e.db.sql, r.recordingId)).status, "cached");
      // the recording grows (e.g. it was converted while the session still ran): convert again
      await Deno.remove(r.path);
      await writeSyntheticSession(r.path, { width: 800, height: 600, seconds: 5, seed: 9 });
      const again = await ask(e.db.sql, r.recordingId);
      assert.equal(again.status, "queued");
      const redone = await until("re-conversion", stateIs(e.db.sql, again.job.id, "done"));
      assert.equal(redone.duration_ms, 5000);
      assert.notEqual(redone.output_path, done.output_path);
    } finally {
      await pool.stop();
    }
  }));

/** Is a process whose command line mentions `needle` alive? */
async function processWith(needle: string): Promise<boolean> {
  for await (const p of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${p.name}/cmdline`).catch(() => "");
    if (cmd.includes(needle)) return true;
  }
  return false;
}

Deno.test("cancelling a running conversion kills ffmpeg promptly and leaves no output", () =>
  withEnv(async (e) => {
    const r = await synth(e, "long", 1024, 768, 240, 4);
    const { job } = await ask(e.db.sql, r.recordingId);
    const pool = await start(e);
    try {
      await until("progress", async () => ((await getConversion(e.db.sql, job.id))?.progress ?? 0) > 2);
      const part = `${e.dir}/mp4/recording-${r.recordingId}-job-${job.id}.mp4.part`;
      assert.ok(await processWith(part), "ffmpeg runs");
      const t0 = Date.now();
      await cancelConversion(e.db.sql, job.id, "test", new Date());
      await until("the job to stop", () => Promise.resolve(pool.running().length === 0), 10_000);
      await until("ffmpeg to exit", async () => !(await processWith(part)), 5000);
      const took = Date.now() - t0;
      assert.ok(took < 5000, `stopping took ${took} ms`);
      await assert.rejects(Deno.stat(part), Deno.errors.NotFound);
      const j = (await getConversion(e.db.sql, job.id))!;
      assert.deepEqual([j.state, j.output_path, j.cancelled_by], ["cancelled", null, "test"]);
    } finally {
      await pool.stop();
    }
  }));

async function badRecordings(e: Env) {
  const corrupt = `${e.dir}/corrupt.rdprec`;
  await writeSyntheticSession(corrupt, { width: 64, height: 48, seconds: 2 });
  const bytes = await Deno.readFile(corrupt);
  bytes[bytes.length - 9] = 0x77; // the END record's type → unknown record type
  await Deno.writeFile(corrupt, bytes);
  const orders = `${e.dir}/orders.rdprec`;
  let now = 0;
  const w = await openRecordingWriter(orders, {
    startedAt: new Date().toISOString(),
    width: 64,
    height: 48,
    colorDepth: 32,
    sessionId: "o",
    source: { address: "192.0.2.1" },
    target: { host: "192.0.2.2", port: 3389 },
    channels: [],
  }, { clock: () => now });
  w.append(RecordType.META, encodeMeta({ kind: "note" }), 0);
  w.append(RecordType.SERVER_FASTPATH, new Uint8Array([0, 0x80, 8, 0x00, 2, 0, 1, 0]), 500); // fast-path orders
  now = 1000;
  await w.close();
  return [await rdpRecordingRow(e.db.sql, corrupt), await rdpRecordingRow(e.db.sql, orders)];
}

Deno.test("corrupt and unrenderable recordings are quarantined with the error, without retries", () =>
  withEnv(async (e) => {
    const [corrupt, orders] = await badRecordings(e);
    const j1 = (await ask(e.db.sql, corrupt.recordingId)).job;
    const j2 = (await ask(e.db.sql, orders.recordingId)).job;
    const pool = await start(e);
    try {
      const q1 = await until("quarantine 1", stateIs(e.db.sql, j1.id, "quarantined", "failed", "done"));
      const q2 = await until("quarantine 2", stateIs(e.db.sql, j2.id, "quarantined", "failed", "done"));
      assert.equal(q1.state, "quarantined");
      assert.match(q1.error!, /^corrupt recording: .*record type/);
      assert.equal(q2.state, "quarantined");
      assert.match(q2.error!, /^cannot render: record at 500 ms .*fast-path orders/);
      assert.deepEqual([q1.attempts, q2.attempts], [1, 1]);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(`${e.dir}/mp4`)), []);
    } finally {
      await pool.stop();
    }
  }));

Deno.test("an ffmpeg failure is retried with backoff and fails after the last attempt", () =>
  withEnv(async (e) => {
    const r = await synth(e, "s", 64, 48, 2);
    const { job } = await ask(e.db.sql, r.recordingId);
    const pool = await start(e, "n1", 1, {
      ffmpeg: "/nonexistent/ffmpeg",
      backoff: { baseMs: 300, maxMs: 10_000 },
    });
    try {
      const retried = await until("a retry", async () => {
        const j = await getConversion(e.db.sql, job.id);
        return j?.state === "pending" && j.attempts === 1 ? j : null;
      });
      assert.match(retried.error!, /^ffmpeg: cannot start \/nonexistent\/ffmpeg/);
      const gap = retried.next_attempt_at.getTime() - Date.now();
      assert.ok(gap > 0 && gap <= 300, `retry due in ${gap} ms`);
      const failed = await until("failure", stateIs(e.db.sql, job.id, "failed"), 20_000);
      assert.equal(failed.attempts, 3);
      assert.ok(failed.finished_at);
    } finally {
      await pool.stop();
    }
  }));

Deno.test("two pools on one database run every job exactly once, each within its concurrency limit", () =>
  withEnv(async (e) => {
    const jobs: ConversionRow[] = [];
    for (let i = 0; i < 5; i++) {
      jobs.push((await ask(e.db.sql, (await synth(e, `m${i}`, 320, 240, 20, i)).recordingId)).job);
    }
    const a = await start(e, "node-a", 1), b = await start(e, "node-b", 1);
    let most = 0;
    try {
      const all = await until("all done", async () => {
        most = Math.max(most, a.running().length, b.running().length);
        const rows = await Promise.all(jobs.map((j) => getConversion(e.db.sql, j.id)));
        return rows.every((j) => j?.state === "done") ? rows as ConversionRow[] : null;
      });
      assert.deepEqual(all.map((j) => j.attempts), [1, 1, 1, 1, 1]);
      assert.ok(most <= 1, `a pool ran ${most} jobs at once`);
      const nodes = new Set(all.map((j) => j.worker_node));
      assert.deepEqual(nodes, new Set(["node-a", "node-b"]));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }));

Deno.test("stopping the pool gives running jobs back; a job of a dead pool is taken over", () =>
  withEnv(async (e) => {
    const r1 = await synth(e, "x", 1024, 768, 120, 5);
    const j1 = (await ask(e.db.sql, r1.recordingId)).job;
    const pool = await start(e, "n1", 1);
    await until("running", stateIs(e.db.sql, j1.id, "running"));
    await pool.stop();
    const back = (await getConversion(e.db.sql, j1.id))!;
    assert.deepEqual([back.state, back.attempts, back.locked_by], ["pending", 0, null]);

    // a pool that died holding a job: its heartbeat stops, another pool takes the job over
    assert.ok(await claimNextConversion(e.db.sql, { node: "dead", lock: "dead:1", now: new Date() }));
    await e.db.sql`UPDATE conversions SET heartbeat_at = now() - interval '10 seconds' WHERE id = ${j1.id}`;
    const r2 = await synth(e, "y", 64, 48, 1);
    await e.db.sql`UPDATE conversions SET recording_id = ${r2.recordingId} WHERE id = ${j1.id}`;
    const heir = await start(e, "n2", 1, { staleMs: 2000, backoff: { baseMs: 10, maxMs: 10 } });
    try {
      const done = await until("takeover", stateIs(e.db.sql, j1.id, "done"));
      assert.deepEqual([done.worker_node, done.attempts], ["n2", 2]);
      assert.ok(e.logs.some((l) => l.includes("took back a conversion")), e.logs.join("\n"));
    } finally {
      await heir.stop();
    }
  }));

Deno.test("the MP4 cache stays under its cap by evicting the oldest video", () =>
  withEnv(async (e) => {
    const r1 = await synth(e, "c1", 160, 120, 5, 1), r2 = await synth(e, "c2", 160, 120, 5, 2);
    const pool = await start(e, "n1", 1, { cacheMaxBytes: 1 });
    try {
      const first = await until(
        "first",
        stateIs(e.db.sql, (await ask(e.db.sql, r1.recordingId)).job.id, "done"),
      );
      await Deno.stat(first.output_path!);
      const second = await until(
        "second",
        stateIs(e.db.sql, (await ask(e.db.sql, r2.recordingId)).job.id, "done"),
      );
      await Deno.stat(second.output_path!); // the newest is kept even above the cap
      // eviction follows right after the job is marked done
      await until("eviction", async () => (await getConversion(e.db.sql, first.id))?.output_path === null);
      await until("file removal", () => Deno.stat(first.output_path!).then(() => false, () => true));
      assert.equal((await ask(e.db.sql, r1.recordingId)).status, "queued");
    } finally {
      await pool.stop();
    }
  }));

Deno.test("requestConversion() refuses a recording whose file is gone, and the pending limit applies", () =>
  withEnv(async (e) => {
    const r = await synth(e, "gone", 64, 48, 1);
    await Deno.remove(r.path);
    await assert.rejects(ask(e.db.sql, r.recordingId), /file of recording \d+ is missing/);
    for (let i = 0; i < 10; i++) {
      const x = await synth(e, `p${i}`, 64, 48, 1);
      await enqueueConversion(e.db.sql, {
        recordingId: x.recordingId,
        sourceSize: 1,
        sourceMtime: null,
        rush: false,
        requestedBy: "t",
        now: new Date(),
      });
    }
    const more = await synth(e, "more", 64, 48, 1);
    await assert.rejects(ask(e.db.sql, more.recordingId), /conversion queue is full/);
  }));

Deno.test("the pool encodes with the configured x264 preset (its options are in the H.264 stream)", () =>
  withEnv(async (e) => {
    const r = await synth(e, "p", 320, 240, 5);
    const x264Options = async (preset?: string) => {
      const asked = await ask(e.db.sql, r.recordingId);
      const pool = await startConversionService({
        config: { nodeId: "n1", dataDir: e.dir, conversionWorkers: 1, conversionPreset: preset },
        sql: e.db.sql,
        log: e.log,
      }, { pollMs: 200, reportMs: 100, heartbeatMs: 500 });
      try {
        const done = await until("done", stateIs(e.db.sql, asked.job.id, "done"));
        const bytes = new TextDecoder("latin1").decode(await Deno.readFile(done.output_path!));
        await Deno.remove(done.output_path!);
        await Deno.remove(r.path);
        await writeSyntheticSession(r.path, { width: 320, height: 240, seconds: 5, seed: 2 }); // a new job
        return /x264 - core \d+.*? options: ([^\0]*)/.exec(bytes)?.[1] ?? "";
      } finally {
        await pool.stop();
      }
    };
    const fast = await x264Options(); // the default, ultrafast: no CABAC, no subpixel refinement
    assert.match(fast, /\bcabac=0\b/);
    assert.match(fast, /\bsubme=0\b/);
    const small = await x264Options("veryfast");
    assert.match(small, /\bcabac=1\b/);
    assert.match(small, /\bsubme=2\b/);
  }));
