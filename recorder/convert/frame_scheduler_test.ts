import assert from "node:assert/strict";
import { FrameScheduler } from "./frame_scheduler.ts";

/** Replays [time, changed] events and returns the frame times emitted. */
function run(tick: number, events: [number, boolean][]): number[] {
  const s = new FrameScheduler(tick);
  const out: number[] = [];
  for (const [t, changed] of events) {
    const due = s.before(t);
    if (due !== null) out.push(due);
    if (changed) s.changed(t);
  }
  const last = s.flush();
  if (last !== null) out.push(last);
  return out;
}

const cases: [string, [number, boolean][], number[]][] = [
  ["the first frame is at 0 and includes records at 0", [[0, true], [0, true], [30, false]], [0]],
  ["an empty recording still gets the frame at 0", [], [0]],
  ["a change between grid points shows at the next one", [[0, false], [250, true], [900, false]], [0, 300]],
  ["bursts within one tick coalesce", [[10, true], [20, true], [90, true], [150, true]], [0, 100, 200]],
  [
    "a record exactly on the grid belongs to that frame",
    [[0, false], [100, true], [100, true], [101, false]],
    [0, 100],
  ],
  ["idle time emits nothing", [[0, true], [60_000, true], [60_001, false]], [0, 60_000]],
  ["input without visible change emits nothing", [[5, false], [6, false], [7, false]], [0]],
];
for (const [name, events, frames] of cases) {
  Deno.test(`FrameScheduler: ${name}`, () => {
    assert.deepEqual(run(100, events), frames);
  });
}

Deno.test("FrameScheduler rounds a fractional tick to whole milliseconds and stays increasing", () => {
  const frames = run(1000 / 3, [[0, true], [1, true], [334, true], [400, true], [700, false]]);
  assert.deepEqual(frames, [0, 333, 667]);
});
