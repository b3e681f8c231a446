import assert from "node:assert/strict";
import { listenerConnectionCap, openFileLimit, parseOpenFileLimit } from "./fd_budget.ts";

Deno.test("fd budget: the soft open-file limit is read from /proc/self/limits", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units     \n" +
    "Max cpu time              unlimited            unlimited            seconds   \n" +
    "Max open files            20000                20000                files     \n";
  assert.equal(parseOpenFileLimit(text), 20000);
  assert.equal(parseOpenFileLimit(text.replace("20000                20000", "unlimited  unlimited")), null);
  assert.equal(parseOpenFileLimit("garbage"), null);
  const own = openFileLimit();
  assert.ok(own === null || own > 0);
});

Deno.test("fd budget: a listener keeps a reserve and two descriptors per session", () => {
  assert.equal(listenerConnectionCap(null), null);
  assert.equal(listenerConnectionCap(20000), 8488); // (20000 - 1024 - 2000) / 2
  assert.equal(listenerConnectionCap(65536), 28979);
  assert.equal(listenerConnectionCap(1024), 16); // never below 16
});
