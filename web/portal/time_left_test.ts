import assert from "node:assert/strict";
import { timeLeft } from "./time_left.ts";

const now = new Date("2026-12-05T10:00:00Z");
const at = (min: number) => new Date(now.getTime() + min * 60_000);

Deno.test("timeLeft: minutes, hours, days, rounded up so a running grant never shows 0", () => {
  assert.equal(timeLeft(at(-5), at(0.2), now), "1 min left");
  assert.equal(timeLeft(at(-5), at(59), now), "59 min left");
  assert.equal(timeLeft(at(-5), at(60), now), "1 h left");
  assert.equal(timeLeft(at(-5), at(125), now), "2 h 5 min left");
  assert.equal(timeLeft(at(-5), at(47 * 60 + 59), now), "47 h 59 min left");
  assert.equal(timeLeft(at(-5), at(3 * 24 * 60), now), "3 days left");
  assert.equal(timeLeft(at(-5), at(3 * 24 * 60 + 7 * 60 + 30), now), "3 days 7 h left");
});

Deno.test("timeLeft: a grant that has not started, and one that ended", () => {
  assert.equal(timeLeft(at(90), at(200), now), "starts in 1 h 30 min");
  assert.equal(timeLeft(at(-100), at(0), now), "ended");
  assert.equal(timeLeft(at(-100), at(-1), now), "ended");
});
