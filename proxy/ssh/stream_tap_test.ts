import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { StreamTap } from "./stream_tap.ts";

const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

Deno.test("StreamTap keeps a prefix per direction, notes the cut once, and hashes every byte", () => {
  const t = new StreamTap(10);
  const a = new Uint8Array(6).fill(1), b = new Uint8Array(6).fill(2), c = new Uint8Array(3).fill(3);
  assert.deepEqual(t.pass("stdout", a), { keep: 6, crossed: false });
  assert.deepEqual(t.pass("stdout", b), { keep: 4, crossed: true });
  assert.deepEqual(t.pass("stdout", c), { keep: 0, crossed: false });
  assert.deepEqual(t.pass("stdin", c), { keep: 3, crossed: false }, "each direction has its own limit");
  const s = t.summary();
  assert.deepEqual(s.stdout, { bytes: 15, sha256: sha(a, b, c), not_kept: 5 });
  assert.deepEqual(s.stdin, { bytes: 3, sha256: sha(c) });
  assert.deepEqual(s.stderr, { bytes: 0, sha256: sha() });
  assert.deepEqual(t.summary(), s, "summary() can be asked again");
});

Deno.test("StreamTap with limit 0 keeps everything", () => {
  const t = new StreamTap(0);
  const big = new Uint8Array(1 << 20);
  assert.deepEqual(t.pass("stdout", big), { keep: big.length, crossed: false });
  assert.equal(t.summary().stdout.not_kept, undefined);
});
