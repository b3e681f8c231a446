import assert from "node:assert/strict";
import { type MetricFamily, MetricsError, MetricsHub, MetricsRegistry } from "./registry.ts";
import { jumphostMetrics } from "./jumphost_metrics.ts";

function value(fams: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const f = fams.find((x) => x.name === name);
  if (!f || f.type === "histogram") return undefined;
  return f.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

Deno.test("MetricsRegistry rejects bad names, wrong label sets, negative counter steps and type clashes", () => {
  const reg = new MetricsRegistry();
  assert.throws(
    () => reg.counter("bad-name", "x"),
    (e) => e instanceof MetricsError && e.code === "bad_name",
  );
  assert.throws(() => reg.counter("ok_total", "x", ["le"]), MetricsError);
  const c = reg.counter("ok_total", "x", ["protocol"]);
  assert.throws(() => c.inc({}), (e) => e instanceof MetricsError && e.code === "bad_labels");
  assert.throws(() => c.inc({ protocol: "ssh", extra: "1" }), MetricsError);
  assert.throws(
    () => c.inc({ protocol: "ssh" }, -1),
    (e) => e instanceof MetricsError && e.code === "bad_value",
  );
  assert.throws(
    () => reg.gauge("ok_total", "x", ["protocol"]),
    (e) => e instanceof MetricsError && e.code === "type_conflict",
  );
  assert.throws(() => reg.histogram("h", "x", [], [1, 0.5]), MetricsError);
  // registering the same family again returns a handle to the same series
  reg.counter("ok_total", "x", ["protocol"]).inc({ protocol: "ssh" });
  c.inc({ protocol: "ssh" });
  assert.equal(value(reg.collect(), "ok_total", { protocol: "ssh" }), 2);
});

Deno.test("collect() is a deep copy: later increments do not change a posted snapshot", () => {
  const reg = new MetricsRegistry();
  const m = jumphostMetrics(reg);
  m.decisionSeconds.observe({ protocol: "ssh" }, 0.001);
  const snap = reg.collect();
  m.decisionSeconds.observe({ protocol: "ssh" }, 0.001);
  const h = snap.find((f) => f.name === "jumphost_decision_duration_seconds");
  assert.ok(h && h.type === "histogram");
  assert.equal(h.samples[0].count, 1);
  assert.deepEqual(structuredClone(snap), snap);
});

Deno.test("MetricsHub sums worker snapshots and keeps a retired worker's counters but not its gauges", () => {
  const hub = new MetricsHub();
  const local = jumphostMetrics(hub.local);
  local.workerRestarts.inc({ service: "ssh" });
  const w1 = new MetricsRegistry();
  const m1 = jumphostMetrics(w1);
  m1.connections.inc({ protocol: "ssh" }, 5);
  m1.conversionQueue.set({ state: "queued" }, 3);
  m1.decisionSeconds.observe({ protocol: "ssh" }, 0.0002);
  const w2 = new MetricsRegistry();
  const m2 = jumphostMetrics(w2);
  m2.connections.inc({ protocol: "ssh" }, 2);
  m2.connections.inc({ protocol: "rdp" }, 1);
  m2.decisionSeconds.observe({ protocol: "ssh" }, 0.02);
  hub.update("ssh#1", w1.collect());
  hub.update("rdp#1", w2.collect());
  let all = hub.collect();
  assert.equal(value(all, "jumphost_connections_total", { protocol: "ssh" }), 7);
  assert.equal(value(all, "jumphost_connections_total", { protocol: "rdp" }), 1);
  assert.equal(value(all, "jumphost_worker_restarts_total", { service: "ssh" }), 1);
  assert.equal(value(all, "jumphost_conversion_queue", { state: "queued" }), 3);
  const h = all.find((f) => f.name === "jumphost_decision_duration_seconds");
  assert.ok(h && h.type === "histogram");
  assert.equal(h.samples[0].count, 2);

  // the ssh worker crashes: its 5 connections stay counted, its gauge goes; its successor starts from 0
  hub.retire("ssh#1");
  const w3 = new MetricsRegistry();
  jumphostMetrics(w3).connections.inc({ protocol: "ssh" });
  hub.update("ssh#2", w3.collect());
  all = hub.collect();
  assert.equal(value(all, "jumphost_connections_total", { protocol: "ssh" }), 8);
  assert.equal(value(all, "jumphost_conversion_queue", { state: "queued" }), undefined);
  // retiring twice or an unknown source changes nothing
  hub.retire("ssh#1");
  hub.retire("nobody");
  assert.equal(value(hub.collect(), "jumphost_connections_total", { protocol: "ssh" }), 8);
});
