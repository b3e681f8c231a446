import assert from "node:assert/strict";
import { judgeCluster, nodeHealth } from "./node_health.ts";

Deno.test("nodeHealth: ok while beating, late after two missed beats, lost at the threshold or once declared", () => {
  const lostAfter = 30_000;
  const table: [Parameters<typeof nodeHealth>[0], number, string][] = [
    ["up", 0, "ok"],
    ["up", 4_900, "ok"],
    ["up", 10_000, "ok"],
    ["up", 10_001, "late"],
    ["up", 29_999, "late"],
    ["up", 30_000, "lost"],
    ["up", 3_600_000, "lost"],
    ["lost", 0, "lost"],
    ["stopped", 0, "stopped"],
    ["stopped", 3_600_000, "stopped"],
  ];
  for (const [state, age, want] of table) {
    assert.equal(nodeHealth(state, age, lostAfter), want, `${state} ${age}`);
  }
  // a short threshold (tests) keeps late below it
  assert.equal(nodeHealth("up", 6_000, 10_000), "late");
  assert.equal(nodeHealth("up", 4_000, 10_000), "ok");
});

Deno.test("judgeCluster: counts live nodes, warns on skew and version mix, fails on a large skew", () => {
  const ok = judgeCluster([
    { name: "a", health: "ok", version: "1.0", clockSkewMs: 120 },
    { name: "b", health: "ok", version: "1.0", clockSkewMs: -300 },
    { name: "c", health: "stopped", version: "0.9", clockSkewMs: 99_000 },
  ]);
  assert.deepEqual(ok.map((f) => f.status), ["ok", "ok", "ok"]);
  assert.equal(ok[0].detail, "2 live of 3");
  assert.equal(ok[1].detail, "largest offset from the database clock: b -0.3 s");
  assert.equal(ok[2].detail, "1.0");

  const bad = judgeCluster([
    { name: "a", health: "ok", version: "1.0", clockSkewMs: 0 },
    { name: "b", health: "late", version: "1.1", clockSkewMs: 5_000 },
    { name: "c", health: "lost", version: "1.1", clockSkewMs: 0 },
  ]);
  assert.deepEqual(bad.map((f) => f.status), ["warn", "warn", "warn"]);
  assert.equal(bad[0].detail, "2 live of 3; late: b; lost: c");
  assert.match(bad[1].detail, /b \+5\.0 s \(run NTP/);
  assert.equal(bad[2].detail, "mixed: 1.0 (a), 1.1 (b) — finish the upgrade");

  assert.equal(
    judgeCluster([{ name: "a", health: "ok", version: "1", clockSkewMs: -45_000 }])[1].status,
    "fail",
  );
  assert.deepEqual(judgeCluster([]).map((f) => f.status), ["ok", "ok", "ok"]);
});
