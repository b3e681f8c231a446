// The queue and aggregation logic with an in-memory row writer (the database path is covered end to end
// by tests/rdp_preauth_flood_test.ts and tests/ssh_preauth_test.ts).
import assert from "node:assert/strict";
import type { AuditEvent } from "../db/audit_events.ts";
import { AuditSink } from "./audit_sink.ts";

const ev = (actor: string, i = 0): AuditEvent => ({
  actor,
  action: "rdp.protocol_error",
  sourceIp: "10.0.0.1",
  success: false,
  details: { i, phase: "x224", code: "protocol" },
});

function quietLog() {
  const lines: string[] = [];
  return { lines, log: { warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
}

Deno.test("AuditSink writes a few rows at a time and applies backpressure on a long queue", async () => {
  const gate = Promise.withResolvers<void>();
  let inFlight = 0, maxInFlight = 0;
  const written: AuditEvent[] = [];
  const { log } = quietLog();
  const sink = new AuditSink({
    log,
    concurrency: 2,
    backpressureAt: 5,
    write: async (e) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await gate.promise;
      inFlight--;
      written.push(e);
    },
  });
  let held = false;
  for (let i = 0; i < 6; i++) await sink.write(ev("alice", i));
  const sixth = sink.write(ev("alice", 6)).then(() => held = true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(held, false, "a write on a long queue waits until it is written");
  gate.resolve();
  await sixth;
  await sink.close();
  assert.equal(written.length, 7);
  assert.equal(maxInFlight, 2);
});

Deno.test("AuditSink never loses an identified event silently: full queue and failed writes are logged and counted", async () => {
  const gate = Promise.withResolvers<void>();
  const { log, lines } = quietLog();
  const lost: string[] = [];
  const sink = new AuditSink({
    log,
    concurrency: 1,
    maxQueued: 2,
    backpressureAt: 100,
    write: async (e) => {
      await gate.promise;
      if (e.details?.i === 1) throw new Error("disk full");
    },
    onLost: (e, why) => lost.push(`${e.details?.i}:${why}`),
  });
  for (let i = 0; i < 4; i++) void sink.write(ev("alice", i));
  // 0 is being written, 1 and 2 wait, 3 does not fit
  assert.deepEqual(lost, ["3:queue_full"]);
  gate.resolve();
  await sink.close();
  assert.deepEqual(lost, ["3:queue_full", "1:write_failed"]);
  assert.ok(lines.includes("audit queue full; event not written"));
  assert.ok(lines.includes("cannot write audit row"));
});

Deno.test("AuditSink folds anonymous repeats and writes their summary at close", async () => {
  const written: AuditEvent[] = [];
  let aggregated = 0;
  const sink = new AuditSink({
    log: quietLog().log,
    write: (e) => Promise.resolve(void written.push(e)),
    onAggregated: () => aggregated++,
  });
  for (let i = 0; i < 500; i++) sink.preauth(ev("unknown", i), "x224:protocol");
  await sink.settled();
  assert.equal(written.length, 1);
  await sink.close();
  assert.equal(written.length, 2);
  assert.equal(written[1].details?.count, 499);
  assert.equal(aggregated, 499);
});
