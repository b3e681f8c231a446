import assert from "node:assert/strict";
import { scaledClock } from "../../core/clock.ts";
import { describeRemaining, expirySchedule, type ExpiryStep, ExpiryTimer } from "./expiry.ts";

const MIN = 60_000;

Deno.test("expirySchedule() lists the warnings still ahead, then the end", () => {
  assert.deepEqual(expirySchedule(100 * MIN, 0), [
    { atMs: 95 * MIN, kind: "warn", remainingMs: 5 * MIN },
    { atMs: 99 * MIN, kind: "warn", remainingMs: MIN },
    { atMs: 100 * MIN, kind: "end" },
  ]);
  assert.deepEqual(expirySchedule(100 * MIN, 97 * MIN), [
    { atMs: 99 * MIN, kind: "warn", remainingMs: MIN },
    { atMs: 100 * MIN, kind: "end" },
  ]);
  assert.deepEqual(expirySchedule(100 * MIN, 101 * MIN), [{ atMs: 100 * MIN, kind: "end" }]);
});

Deno.test("describeRemaining() words the warnings", () => {
  assert.equal(describeRemaining(5 * MIN), "5 minutes");
  assert.equal(describeRemaining(MIN), "1 minute");
  assert.equal(describeRemaining(30_000), "30 seconds");
});

Deno.test("ExpiryTimer fires warnings and the end on a scaled clock, and re-arms on reset", async () => {
  const clock = scaledClock(600); // 6 minutes of grant = 600 ms
  const steps: ExpiryStep["kind"][] = [];
  const done = Promise.withResolvers<void>();
  const t = new ExpiryTimer(clock, (s) => {
    steps.push(s.kind);
    if (s.kind === "end") done.resolve();
  });
  t.reset(clock.now() + 60 * MIN); // far away
  t.reset(clock.now() + 6 * MIN); // replaced: only this schedule may fire
  await done.promise;
  t.cancel();
  assert.deepEqual(steps, ["warn", "warn", "end"]);
});
