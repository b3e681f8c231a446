import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { looksBinary, StreamTap } from "./stream_tap.ts";

const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

Deno.test("StreamTap keeps a prefix per direction, notes the cut once, and hashes every byte", () => {
  const t = new StreamTap(10);
  const a = new Uint8Array(6).fill(0x61), b = new Uint8Array(6).fill(0x62), c = new Uint8Array(3).fill(0x63);
  assert.deepEqual(t.pass("stdout", a), { keep: 6, crossed: false, edge: null });
  assert.deepEqual(t.pass("stdout", b), { keep: 4, crossed: true, edge: null });
  assert.deepEqual(t.pass("stdout", c), { keep: 0, crossed: false, edge: null });
  assert.deepEqual(
    t.pass("stdin", c),
    { keep: 3, crossed: false, edge: null },
    "each direction has its own limit",
  );
  const s = t.summary();
  assert.deepEqual(s.stdout, { bytes: 15, sha256: sha(a, b, c), not_kept: 5 });
  assert.deepEqual(s.stdin, { bytes: 3, sha256: sha(c) });
  assert.deepEqual(s.stderr, { bytes: 0, sha256: sha() });
  assert.deepEqual(t.summary(), s, "summary() can be asked again");
});

Deno.test("StreamTap with limit 0 keeps everything", () => {
  const t = new StreamTap(0);
  const big = new Uint8Array(1 << 20).fill(0x78);
  assert.deepEqual(t.pass("stdout", big), { keep: big.length, crossed: false, edge: null });
  assert.equal(t.summary().stdout.not_kept, undefined);
});

Deno.test("looksBinary: text, UTF-8 split across chunks and a few stray controls are text; random bytes are not", () => {
  const enc = new TextEncoder();
  assert.equal(looksBinary(enc.encode("ls -l\r\n\x1b[0mtotal 0\n\ttab")), false);
  const euro = enc.encode("x€y");
  assert.equal(looksBinary(euro.subarray(0, 2)), false, "ends inside a character");
  assert.equal(looksBinary(euro.subarray(2)), false, "starts inside a character");
  assert.equal(looksBinary(enc.encode("rm -rf /tmp/x\n\0")), false, "one NUL does not hide a command");
  const random = new Uint8Array(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 13 & 0xff;
  assert.equal(looksBinary(random), true);
  assert.equal(looksBinary(new Uint8Array(100)), true, "NULs");
});

Deno.test("StreamTap: a binary run is hashed, not kept, with its edges; past the limit no bytes are looked at", () => {
  const t = new StreamTap(100);
  const bin = new Uint8Array(40);
  const txt = new TextEncoder().encode("hello\n");
  assert.deepEqual(t.pass("stdout", txt), { keep: 6, crossed: false, edge: null });
  assert.deepEqual(t.pass("stdout", bin), { keep: 0, crossed: false, edge: "binary_start" });
  assert.deepEqual(t.pass("stdout", bin), { keep: 0, crossed: false, edge: null });
  assert.deepEqual(t.pass("stdout", txt), { keep: 6, crossed: false, edge: "binary_end" });
  assert.deepEqual(t.pass("stdout", bin), { keep: 0, crossed: false, edge: "binary_start" });
  assert.deepEqual(t.pass("stdout", txt), { keep: 0, crossed: true, edge: null }, "over 100 bytes now");
  assert.equal(t.summary().stdout.not_kept, 40 * 3 + 6);
});
