// End-to-end: `jumphost recordings …` (the real program) against a real PostgreSQL database and ffmpeg.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { getConversion } from "../db/conversions.ts";
import { writeSyntheticSession } from "../recorder/convert/testdata/synth_session.ts";
import { rdpRecordingRow } from "../recorder/convert/testdata/rows.ts";
import { startConversionService } from "../recorder/convert/pool.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("recordings convert --wait converts in-process without a pool; queue, cancel and errors", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-rec-cli-" });
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dir, JUMPHOST_NODE_ID: "cli-node" });
  try {
    const path = `${dir}/a.rdprec`;
    await writeSyntheticSession(path, { width: 320, height: 240, seconds: 20, seed: 2 });
    const a = await rdpRecordingRow(db.sql, path);

    const out = await cli.ok(["recordings", "convert", a.sessionId, "--wait"]);
    const id = Number(/queued as job (\d+)/.exec(out)?.[1]);
    assert.ok(id > 0, out);
    assert.match(out, new RegExp(`job ${id}: pending 0%`));
    assert.match(out, new RegExp(`job ${id}: done 100%`));
    const done = new RegExp(`job ${id} done: (\\S+\\.mp4) \\([\\d.]+ MiB, 320x240, 20 s\\)`).exec(out);
    assert.ok(done, out);
    assert.ok(done[1].startsWith(`${dir}/mp4/`));
    assert.equal((await Deno.stat(done[1])).mode! & 0o777, 0o640);
    const row = (await getConversion(db.sql, id))!;
    assert.deepEqual([row.state, row.worker_node, row.attempts], ["done", "cli-node", 1]);

    // asking again reuses the MP4; the session can be named by its row id too
    assert.match(
      await cli.ok(["recordings", "convert", String(a.sessionRowId)]),
      /already converted \(job \d+\)/,
    );
    const audit = await db
      .sql`SELECT action, details FROM audit_log WHERE action = 'recording.convert' ORDER BY id`;
    assert.deepEqual(audit.map((r) => r.details.status), ["queued", "cached"]);

    // queue, rush and cancel without a pool
    const bPath = `${dir}/b.rdprec`;
    await writeSyntheticSession(bPath, { width: 64, height: 48, seconds: 2 });
    const b = await rdpRecordingRow(db.sql, bPath);
    const queued = await cli.json<{ id: number; rush: boolean }[]>([
      "recordings",
      "convert",
      b.sessionId,
      "--rush",
    ]);
    assert.equal(queued[0].rush, true);
    const q = await cli.run(["recordings", "queue"]);
    assert.match(q.stdout, new RegExp(`^${queued[0].id}\\s+pending\\s+1\\s+${b.sessionId}`, "m"));
    assert.match(q.stderr, /no conversion pool is running/);
    assert.equal(
      await cli.ok(["recordings", "cancel", String(queued[0].id)]),
      `job ${queued[0].id} cancelled\n`,
    );
    const again = await cli.run(["recordings", "cancel", String(queued[0].id)]);
    assert.deepEqual([again.code, again.stderr.trim()], [
      1,
      `jumphost: conversion job ${queued[0].id} has already ended (cancelled)`,
    ]);
    const recent = await cli.json<{ id: number; state: string }[]>(["recordings", "queue", "--recent", "5"]);
    assert.deepEqual(recent.map((r) => [r.id, r.state]), [[queued[0].id, "cancelled"], [id, "done"]]);

    const missing = await cli.run(["recordings", "convert", "no-such-session"]);
    assert.deepEqual([missing.code, missing.stderr.trim()], [
      1,
      'jumphost: session "no-such-session" not found',
    ]);
    const usage = await cli.run(["recordings", "cancel", "abc"]);
    assert.equal(usage.code, 2);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordings convert --wait follows a running pool instead of converting itself", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-rec-cli-" });
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dir, JUMPHOST_NODE_ID: "cli-node" });
  const pool = await startConversionService(
    { config: { nodeId: "serve-node", dataDir: dir, conversionWorkers: 1 }, sql: db.sql, log: quiet },
    { pollMs: 200, reportMs: 200, heartbeatMs: 1000 },
  );
  try {
    const path = `${dir}/c.rdprec`;
    await writeSyntheticSession(path, { width: 320, height: 240, seconds: 10, seed: 5 });
    const c = await rdpRecordingRow(db.sql, path);
    const rows = await cli.json<{ id: number; state: string; worker_node: string }[]>([
      "recordings",
      "convert",
      c.sessionId,
      "--wait",
    ]);
    assert.deepEqual(rows.map((r) => [r.state, r.worker_node]), [["done", "serve-node"]]);
  } finally {
    await pool.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
