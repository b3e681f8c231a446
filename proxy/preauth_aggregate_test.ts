import assert from "node:assert/strict";
import type { AuditEvent } from "../db/audit_events.ts";
import { PreauthAggregator } from "./preauth_aggregate.ts";

const ev = (source: string, ref = "r"): AuditEvent => ({
  actor: `ip:${source}`,
  action: "ssh.access_denied",
  sourceIp: source,
  success: false,
  details: { reason: "unknown_source_ip", ref },
});

Deno.test("PreauthAggregator: the first event passes, repeats become one summary per window", () => {
  const a = new PreauthAggregator({ windowMs: 60_000, sampleField: "ref" });
  assert.deepEqual(a.add(ev("10.0.0.1", "a"), "unknown_source_ip", 0), ev("10.0.0.1", "a"));
  for (let i = 0; i < 99; i++) {
    assert.equal(a.add(ev("10.0.0.1", `r${i}`), "unknown_source_ip", 1000 + i), null);
  }
  assert.deepEqual(a.due(59_999), [], "the window is still open");
  const [s] = a.due(60_000);
  assert.equal(s.details?.count, 99);
  assert.equal(s.details?.aggregated, true);
  assert.equal(s.details?.first_at, new Date(1000).toISOString());
  assert.equal(s.details?.last_at, new Date(1098).toISOString());
  assert.equal((s.details?.refs as string[]).length, 20, "samples are bounded");
  assert.equal(s.details?.ref, undefined);
  assert.equal(s.sourceIp, "10.0.0.1");
  assert.equal(a.folded, 99);
  // a continuing flood: the next window's events are folded too (no second immediate row)
  assert.equal(a.add(ev("10.0.0.1"), "unknown_source_ip", 61_000), null);
  assert.equal(a.due(120_000)[0].details?.count, 1);
  // a quiet window forgets the key: the next event is written at once again
  assert.deepEqual(a.due(180_000), []);
  assert.equal(a.keys, 0);
  assert.ok(a.add(ev("10.0.0.1"), "unknown_source_ip", 181_000));
});

Deno.test("PreauthAggregator: sources and reasons are separate keys; the number of keys is bounded", () => {
  const a = new PreauthAggregator({ maxKeys: 3 });
  assert.ok(a.add(ev("10.0.0.1"), "x", 0));
  assert.ok(a.add(ev("10.0.0.2"), "x", 0));
  assert.ok(a.add(ev("10.0.0.1"), "y", 0));
  // full: new sources fold into one "many sources" key per action and reason
  assert.ok(a.add(ev("10.0.0.3"), "x", 0), "the first of the overflow key is written");
  for (let i = 4; i < 1000; i++) assert.equal(a.add(ev(`10.0.${i >> 8}.${i & 255}`), "x", 1), null);
  assert.equal(a.keys, 4);
  const summaries = a.due(0, true);
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0].sourceIp, null);
  assert.equal(summaries[0].actor, "unknown");
  assert.equal(summaries[0].details?.count, 996);
  assert.equal((summaries[0].details?.sources as string[]).length, 100);
  assert.equal(a.keys, 0, "flushAll forgets every key");
});
