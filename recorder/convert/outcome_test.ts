import assert from "node:assert/strict";
import { failureAction, retryDelayMs } from "./outcome.ts";

Deno.test("failureAction() quarantines bad recordings, retries passing failures, stops on abort", () => {
  const cases = [
    ["recording", "quarantine"],
    ["render", "quarantine"],
    ["ffmpeg", "retry"],
    ["internal", "retry"],
    ["worker", "retry"],
    ["aborted", "stopped"],
  ] as const;
  for (const [code, want] of cases) assert.equal(failureAction(code), want, code);
});

Deno.test("retryDelayMs() doubles from the base and stops at the cap", () => {
  const b = { baseMs: 1000, maxMs: 10_000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 60].map((n) => retryDelayMs(n, b)), [
    1000,
    1000,
    2000,
    4000,
    8000,
    10_000,
    10_000,
  ]);
  assert.equal(retryDelayMs(1), 30_000);
  assert.equal(retryDelayMs(3), 120_000);
});
