import assert from "node:assert/strict";
import { formatEta, progressBar, progressLine } from "./progress_bar.ts";

Deno.test("formatEta() shows m:ss, h:mm:ss and a placeholder when unknown", () => {
  assert.deepEqual([formatEta(null), formatEta(0), formatEta(65.4), formatEta(3725)], [
    "--:--",
    "0:00",
    "1:05",
    "1:02:05",
  ]);
});

Deno.test("progressBar() fills in proportion and clamps", () => {
  assert.equal(
    progressBar({ job: 7, state: "running", percent: 50, etaSeconds: 12 }, 10),
    "job 7 [#####.....]  50.0%  ETA 0:12  running",
  );
  assert.equal(
    progressBar({ job: 1, state: "done", percent: 140, etaSeconds: 0 }, 4),
    "job 1 [####] 100.0%  ETA 0:00  done",
  );
});

Deno.test("progressLine() prints on state changes and every step, not on each update", () => {
  const v = (state: string, percent: number) => ({ job: 3, state, percent, etaSeconds: 30 });
  assert.equal(progressLine(v("pending", 0), null), "job 3: pending 0%");
  assert.equal(progressLine(v("pending", 0), v("pending", 0)), null);
  assert.equal(progressLine(v("running", 4), v("pending", 0)), "job 3: running 4% (about 0:30 left)");
  assert.equal(progressLine(v("running", 9.9), v("running", 4)), null);
  assert.equal(progressLine(v("running", 10), v("running", 4)), "job 3: running 10% (about 0:30 left)");
  assert.equal(progressLine(v("done", 100), v("running", 95)), "job 3: done 100%");
});
