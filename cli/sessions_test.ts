import assert from "node:assert/strict";
import { formatDuration } from "./sessions.ts";

Deno.test("formatDuration() prints seconds, minutes and hours compactly", () => {
  assert.equal(formatDuration(null), "-");
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59.6), "1m00s");
  assert.equal(formatDuration(125), "2m05s");
  assert.equal(formatDuration(3725), "1h02m05s");
  assert.equal(formatDuration(-3), "0s");
});
