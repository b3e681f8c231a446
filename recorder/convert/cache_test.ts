import assert from "node:assert/strict";
import { planEviction, sameFingerprint } from "./cache.ts";

const f = (path: string, size: number, mtimeMs: number) => ({ path, size, mtimeMs });

Deno.test("planEviction() removes the oldest files until the rest fits, never a kept one", () => {
  const files = [f("c", 30, 3), f("a", 50, 1), f("b", 40, 2), f("d", 10, 4)];
  assert.deepEqual(planEviction(files, 200, new Set()), []);
  assert.deepEqual(planEviction(files, 80, new Set()), ["a"]);
  assert.deepEqual(planEviction(files, 40, new Set()), ["a", "b"]);
  assert.deepEqual(planEviction(files, 60, new Set(["a"])), ["b", "c"]);
  assert.deepEqual(planEviction(files, 40, new Set(["a"])), ["b", "c", "d"]);
  assert.deepEqual(planEviction(files, 0, new Set(["d"])), ["a", "b", "c"]);
});

Deno.test("sameFingerprint() compares size and, when both are known, mtime", () => {
  const t = new Date("2025-01-01T00:00:00.123Z");
  assert.equal(sameFingerprint({ size: 5, mtime: t }, { size: 5, mtime: new Date(t) }), true);
  assert.equal(sameFingerprint({ size: 5, mtime: t }, { size: 6, mtime: t }), false);
  assert.equal(sameFingerprint({ size: 5, mtime: t }, { size: 5, mtime: new Date(t.getTime() + 1) }), false);
  assert.equal(sameFingerprint({ size: 5, mtime: null }, { size: 5, mtime: t }), true);
});
