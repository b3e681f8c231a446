// The fuzzers' byte mutations, and their seeded PRNG (bench/policy's mulberry32), so a failing input can be
// found again by its seed.
export { prng } from "../policy/world.ts";
/** Random bytes, bit flips, truncation, extension, a corrupted 32-bit length, or a repeated slice. */
export function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const r = rand();
  if (src.length === 0 || r < 0.15) return Uint8Array.from({ length: int(600) }, () => int(256));
  const b = src.slice();
  if (r < 0.4) {
    for (let n = 1 + int(6); n > 0; n--) b[int(b.length)] ^= 1 << int(8);
    return b;
  }
  if (r < 0.55) return b.subarray(0, int(b.length));
  if (r < 0.65) {
    const tail = Uint8Array.from({ length: 1 + int(64) }, () => int(256));
    const out = new Uint8Array(b.length + tail.length);
    out.set(b);
    out.set(tail, b.length);
    return out;
  }
  if (r < 0.85 && b.length >= 4) {
    const at = int(b.length - 3);
    const v = [0, 1, 0x7fffffff, 0xffffffff, 0x10000, int(1 << 16)][int(6)];
    new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0);
    return b;
  }
  const s = int(b.length), e = s + int(b.length - s);
  const rep = b.subarray(s, e);
  const out = new Uint8Array(b.length + rep.length * 3);
  out.set(b.subarray(0, e));
  for (let k = 0; k < 3; k++) out.set(rep, e + k * rep.length);
  out.set(b.subarray(e), e + rep.length * 3);
  return out;
}
