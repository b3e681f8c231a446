import assert from "node:assert/strict";
import { Damage } from "./damage.ts";

Deno.test("Damage marks the 16×16 cells a rectangle touches, clipped, and reports runs", () => {
  const d = new Damage(40, 20); // 3×2 cells, the last column and row partial
  assert.deepEqual([d.cols, d.rows, d.count()], [3, 2, 0]);
  d.add(15, 0, 2, 1); // straddles cells 0 and 1 of row 0
  d.add(39, 19, 10, 10); // the bottom-right corner, clipped
  d.add(-5, -5, 3, 3); // outside
  assert.deepEqual([...d.cells], [1, 1, 0, 0, 0, 1]);
  const runs: number[][] = [];
  d.runs((x, y, w, h) => runs.push([x, y, w, h]));
  assert.deepEqual(runs, [[0, 0, 32, 16], [32, 16, 8, 4]]);
  const e = new Damage(40, 20);
  e.add(0, 16, 1, 1);
  e.addFrom(d);
  assert.deepEqual([...e.cells], [1, 1, 0, 1, 0, 1]);
  e.clear();
  assert.equal(e.count(), 0);
  e.addAll();
  assert.equal(e.count(), 6);
  assert.throws(() => e.addFrom(new Damage(16, 16)), RangeError);
});
