import assert from "node:assert/strict";
import { createTestDb, type TestDb } from "../tests/helpers/test_db.ts";
import { connect } from "./client.ts";
import { addRecording } from "./recordings.ts";
import {
  cancelConversion,
  type ConversionChange,
  ConversionQueueError,
  enqueueConversion,
  getConversion,
  listenConversionChanged,
  listQueue,
  MAX_PENDING,
  rushConversion,
} from "./conversions.ts";
import {
  claimNextConversion,
  failConversion,
  finishConversion,
  heartbeatPool,
  livePools,
  quarantineConversion,
  recoverStaleConversions,
  releaseConversion,
  reportConversionProgress,
} from "./conversions_work.ts";

const T0 = new Date("2025-06-01T12:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function recording(sql: TestDb["sql"], kind: "rdp" | "asciicast" = "rdp"): Promise<number> {
  const sid = crypto.randomUUID();
  const [s] = await sql<{ id: number }[]>`INSERT INTO sessions (session_id, user_name, server_name, protocol,
      source_ip, node_id) VALUES (${sid}, 'alice', 'win1', 'rdp', '192.0.2.7', 'n1') RETURNING id`;
  return await addRecording(sql, { sessionRowId: s.id, kind, channel: null, path: `/rec/${sid}.rdprec` });
}

function enqueue(sql: TestDb["sql"], recordingId: number, now = T0, rush = false, maxPending?: number) {
  return enqueueConversion(sql, {
    recordingId,
    sourceSize: 1000,
    sourceMtime: T0,
    rush,
    requestedBy: "test",
    now,
    maxPending,
  });
}

const claim = (sql: TestDb["sql"], now = T0, lock: string = crypto.randomUUID()) =>
  claimNextConversion(sql, { node: "n1", lock, now });

async function withDb(fn: (db: TestDb) => Promise<void>): Promise<void> {
  const db = await createTestDb();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

Deno.test("enqueueConversion() allows MAX_PENDING pending jobs and refuses one more with a clear error", () =>
  withDb(async ({ sql }) => {
    const recs = [];
    for (let i = 0; i <= MAX_PENDING; i++) recs.push(await recording(sql));
    for (const r of recs.slice(0, MAX_PENDING)) assert.equal((await enqueue(sql, r)).created, true);
    await assert.rejects(enqueue(sql, recs[MAX_PENDING]), (e) => {
      assert.ok(e instanceof ConversionQueueError);
      assert.equal(e.code, "queue_full");
      assert.match(e.message, /queue is full \(10 jobs pending, at most 10\)/);
      return true;
    });
    // asking again for a queued recording is not a new job, so the limit does not apply
    const again = await enqueue(sql, recs[3]);
    assert.equal(again.created, false);
    // a running job no longer counts as pending
    assert.ok(await claim(sql));
    assert.equal((await enqueue(sql, recs[MAX_PENDING])).created, true);
  }));

Deno.test("enqueueConversion() refuses unknown and non-RDP recordings", () =>
  withDb(async ({ sql }) => {
    const cast = await recording(sql, "asciicast");
    await assert.rejects(
      enqueue(sql, cast),
      (e) => e instanceof ConversionQueueError && e.code === "not_rdp",
    );
    await assert.rejects(
      enqueue(sql, 999999),
      (e) => e instanceof ConversionQueueError && e.code === "not_found",
    );
  }));

Deno.test("claimNextConversion() takes rushed jobs first (in rush order), then the oldest", () =>
  withDb(async ({ sql }) => {
    const [a, b, c, d] = [
      await recording(sql),
      await recording(sql),
      await recording(sql),
      await recording(sql),
    ];
    const ja = (await enqueue(sql, a, at(0))).job;
    const jb = (await enqueue(sql, b, at(1))).job;
    const jc = (await enqueue(sql, c, at(2))).job;
    const jd = (await enqueue(sql, d, at(3), true)).job; // rushed when requested
    await rushConversion(sql, jc.id, at(4));
    // rushing through a repeated request works too
    assert.equal((await enqueue(sql, b, at(5), true)).job.rush, true);
    const q = await listQueue(sql);
    assert.deepEqual(q.map((r) => [r.id, r.position]), [[jd.id, 1], [jc.id, 2], [jb.id, 3], [ja.id, 4]]);
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await claim(sql, at(10)))!.id);
    assert.deepEqual(order, [jd.id, jc.id, jb.id, ja.id]);
    assert.equal(await claim(sql, at(10)), null);
  }));

Deno.test("cancelConversion() stops pending and running jobs; the holder's reports are refused after", () =>
  withDb(async ({ sql }) => {
    const p = (await enqueue(sql, await recording(sql))).job;
    const r = (await enqueue(sql, await recording(sql), at(1))).job;
    const lock = "pool-a:1";
    const claimed = await claim(sql, at(2), lock);
    assert.equal(claimed?.id, p.id);
    assert.equal(
      await reportConversionProgress(sql, p.id, lock, { progress: 40, etaSeconds: 12 }, at(3)),
      true,
    );

    const c1 = await cancelConversion(sql, p.id, "console:ann", at(4));
    assert.deepEqual([c1.state, c1.cancelled_by, c1.locked_by], ["cancelled", "console:ann", null]);
    assert.equal(
      await reportConversionProgress(sql, p.id, lock, { progress: 50, etaSeconds: 5 }, at(5)),
      false,
    );
    const out = { outputPath: "/x.mp4", outputSize: 1, width: 2, height: 2, frames: 1, durationMs: 1 };
    assert.equal(await finishConversion(sql, p.id, lock, out, at(6)), false);
    assert.equal((await getConversion(sql, p.id))?.state, "cancelled");

    assert.equal((await cancelConversion(sql, r.id, "cli:root", at(7))).state, "cancelled");
    assert.equal(await claim(sql, at(8)), null);
    await assert.rejects(cancelConversion(sql, r.id, "x", at(9)), (e) => {
      assert.ok(e instanceof ConversionQueueError);
      assert.equal(e.code, "finished");
      assert.match(e.message, /already ended \(cancelled\)/);
      return true;
    });
    await assert.rejects(
      cancelConversion(sql, 424242, "x", at(9)),
      (e) => (e as ConversionQueueError).code === "not_found",
    );
  }));

Deno.test("failConversion() retries after the backoff and fails for good after max attempts", () =>
  withDb(async ({ sql }) => {
    const j = (await enqueue(sql, await recording(sql))).job;
    assert.equal(j.max_attempts, 3);
    let lock = "l1";
    assert.equal((await claim(sql, at(0), lock))?.attempts, 1);
    assert.equal(await failConversion(sql, j.id, lock, "ffmpeg exited with 1", 30_000, at(1)), "pending");
    let row = (await getConversion(sql, j.id))!;
    assert.deepEqual([row.state, row.error, row.next_attempt_at.getTime()], [
      "pending",
      "ffmpeg exited with 1",
      at(31).getTime(),
    ]);
    assert.equal(await claim(sql, at(30)), null, "not before the backoff ends");
    lock = "l2";
    assert.equal((await claim(sql, at(31), lock))?.attempts, 2);
    assert.equal(await failConversion(sql, j.id, lock, "again", 60_000, at(32)), "pending");
    lock = "l3";
    assert.equal((await claim(sql, at(92), lock))?.attempts, 3);
    assert.equal(await failConversion(sql, j.id, lock, "third time", 120_000, at(93)), "failed");
    row = (await getConversion(sql, j.id))!;
    assert.deepEqual([row.state, row.error, row.finished_at?.getTime()], [
      "failed",
      "third time",
      at(93).getTime(),
    ]);
    assert.equal(await claim(sql, at(10_000)), null);
    // a stale token cannot report a failure
    assert.equal(await failConversion(sql, j.id, "l1", "late", 1, at(94)), null);
  }));

Deno.test("quarantineConversion() keeps the error and the job is never retried", () =>
  withDb(async ({ sql }) => {
    const j = (await enqueue(sql, await recording(sql))).job;
    await claim(sql, at(0), "q");
    assert.equal(
      await quarantineConversion(sql, j.id, "q", "render: unsupported update: orders", at(1)),
      true,
    );
    const row = (await getConversion(sql, j.id))!;
    assert.deepEqual([row.state, row.error, row.attempts], [
      "quarantined",
      "render: unsupported update: orders",
      1,
    ]);
    assert.equal(await claim(sql, at(3600)), null);
    // asking again queues a fresh job (e.g. after the renderer learned the update)
    assert.equal((await enqueue(sql, row.recording_id, at(2))).created, true);
  }));

Deno.test("two pools claiming at once never take the same job", () =>
  withDb(async (db) => {
    const ids = new Set<number>();
    for (let i = 0; i < 30; i++) {
      ids.add((await enqueue(db.sql, await recording(db.sql), at(i), false, 100)).job.id);
    }
    const other = connect({ url: db.url }, { max: 4 });
    try {
      const takes = async (sql: TestDb["sql"], pool: string) => {
        const got: number[] = [];
        for (;;) {
          const batch = await Promise.all(
            [1, 2, 3].map((k) => claim(sql, at(100), `${pool}:${k}:${got.length}`)),
          );
          const claimed = batch.filter((j) => j !== null);
          if (claimed.length === 0) return got;
          got.push(...claimed.map((j) => j!.id));
        }
      };
      const [a, b] = await Promise.all([takes(db.sql, "a"), takes(other, "b")]);
      const all = [...a, ...b];
      assert.equal(new Set(all).size, all.length, "a job was claimed twice");
      assert.deepEqual(new Set(all), ids);
      assert.ok(a.length > 0 && b.length > 0, `both pools worked (${a.length}/${b.length})`);
    } finally {
      await other.end();
    }
  }));

Deno.test("recoverStaleConversions() puts jobs of silent pools back, and fails them on their last attempt", () =>
  withDb(async ({ sql }) => {
    const j1 = (await enqueue(sql, await recording(sql), at(0))).job;
    const j2 = (await enqueue(sql, await recording(sql), at(1), false)).job;
    await sql`UPDATE conversions SET max_attempts = 1 WHERE id = ${j2.id}`;
    await claim(sql, at(2), "dead-1");
    await claim(sql, at(2), "dead-2");
    await reportConversionProgress(sql, j2.id, "dead-2", { progress: 10, etaSeconds: 100 }, at(50));
    const recover = async (now: Date) => [...await recoverStaleConversions(sql, now, 60_000, 5_000)];
    assert.deepEqual(await recover(at(61)), [], "a heartbeat 59 s old is not stale");
    assert.deepEqual(await recover(at(63)), [{ id: j1.id, state: "pending" }]);
    assert.deepEqual(await recover(at(111)), [{ id: j2.id, state: "failed" }]);
    const r1 = (await getConversion(sql, j1.id))!;
    assert.equal(r1.next_attempt_at.getTime(), at(68).getTime());
    assert.match(r1.error!, /converting node \(n1\) stopped reporting/);
    assert.equal((await claim(sql, at(68), "live"))?.id, j1.id);
    assert.equal(
      await reportConversionProgress(sql, j1.id, "dead-1", { progress: 99, etaSeconds: 1 }, at(69)),
      false,
    );
  }));

Deno.test("releaseConversion() hands a job back without counting the attempt", () =>
  withDb(async ({ sql }) => {
    const j = (await enqueue(sql, await recording(sql))).job;
    await claim(sql, at(0), "r");
    assert.equal(await releaseConversion(sql, j.id, "r"), true);
    const row = (await getConversion(sql, j.id))!;
    assert.deepEqual([row.state, row.attempts, row.locked_by], ["pending", 0, null]);
  }));

Deno.test("conversion changes are notified on conversion_changed", () =>
  withDb(async ({ sql }) => {
    const seen: ConversionChange[] = [];
    const got = Promise.withResolvers<void>();
    const l = await listenConversionChanged(sql, (c) => {
      seen.push(c);
      if (c.state === "cancelled") got.resolve();
    });
    try {
      const rec = await recording(sql);
      const j = (await enqueue(sql, rec)).job;
      await reportConversionProgress(sql, j.id, "none", { progress: 1, etaSeconds: 1 }, at(1));
      await cancelConversion(sql, j.id, "t", at(2));
      await got.promise;
      assert.deepEqual(seen, [
        { id: j.id, recording_id: rec, state: "pending" },
        { id: j.id, recording_id: rec, state: "cancelled" },
      ]);
    } finally {
      await l.unlisten();
    }
  }));

Deno.test("livePools() lists pools whose heartbeat is recent", () =>
  withDb(async ({ sql }) => {
    await heartbeatPool(sql, { poolId: "a", nodeId: "n1", slots: 2 }, at(0));
    await heartbeatPool(sql, { poolId: "b", nodeId: "n2", slots: 1 }, at(50));
    assert.deepEqual((await livePools(sql, at(60), 30_000)).map((p) => p.pool_id), ["b"]);
  }));
