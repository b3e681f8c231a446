import assert from "node:assert/strict";
import { RenderError } from "./errors.ts";
import { decodePlanar, decodeRlePlane } from "./planar.ts";
import { hex, loadFreeRdpFixtures, randomBytes, sha256Hex } from "./testdata/fixtures.ts";
import { makeImage } from "./testdata/images.ts";
import { encodePlanar } from "./testdata/planar_encoder.ts";

Deno.test("decodeRlePlane() decodes the MS-RDPEGDI 3.1.9.2.3 example (6×3, absolute then deltas)", () => {
  const src = hex("13 FF 20 FE FD 60 01 7D F5 C2 9A 38 60 01 67 8B A3 78 AF");
  const { plane, end } = decodeRlePlane(src, 0, 6, 3);
  assert.equal(end, src.length);
  assert.deepEqual([...plane], [
    ...[255, 255, 255, 255, 254, 253],
    ...[254, 192, 132, 96, 75, 25],
    ...[253, 140, 62, 14, 135, 193],
  ]);
});

Deno.test("decodeRlePlane() decodes the 3.1.9.2.2 extra long run example (100 × 'A')", () => {
  const { plane } = decodeRlePlane(hex("1F 41 F2 52"), 0, 100, 1);
  assert.deepEqual([...plane], Array(100).fill(0x41));
});

Deno.test("decodeRlePlane() decodes the 3.1.9.2 segment example AAAABBCCCCCD", () => {
  const src = new Uint8Array([0x13, 0x41, 0x34, 0x42, 0x42, 0x43, 0x10, 0x44]);
  const { plane } = decodeRlePlane(src, 0, 12, 1);
  assert.equal(new TextDecoder().decode(plane), "AAAABBCCCCCD");
});

Deno.test("decodePlanar() matches FreeRDP's decoder on FreeRDP's and our encoder's streams", async () => {
  const fixtures = loadFreeRdpFixtures("planar");
  assert.ok(fixtures.length >= 20);
  for (const f of fixtures) {
    const rgba = decodePlanar(f.data, f.width, f.height);
    assert.equal(await sha256Hex(rgba), f.freerdpRgbaSha256, f.name);
    if (f.encoder === "freerdp") { // lossless ARGB: the source picture comes back (alpha only with a plane)
      const src = makeImage(f.image, f.width, f.height);
      if (f.data[0] & 0x20) { for (let i = 3; i < src.length; i += 4) src[i] = 255; }
      assert.deepEqual(rgba, src, f.name);
    }
  }
});

const lossless: [string, Parameters<typeof encodePlanar>[3]][] = [
  ["RLE, no alpha", { rle: true }],
  ["RLE with alpha", { rle: true, alpha: true }],
  ["raw, no alpha", { rle: false }],
  ["raw with alpha", { rle: false, alpha: true }],
];
for (const [name, opts] of lossless) {
  Deno.test(`decodePlanar() round-trips ARGB planes: ${name}`, () => {
    for (
      const [image, w, h] of [["ui", 64, 64], ["alpha", 37, 23], ["noise", 5, 3], ["gradient", 1, 1]] as const
    ) {
      const src = makeImage(image, w, h);
      if (!opts?.alpha) { for (let i = 3; i < src.length; i += 4) src[i] = 255; }
      assert.deepEqual(decodePlanar(encodePlanar(src, w, h, opts), w, h), src, `${image} ${w}x${h}`);
    }
  });
}

/**
 * A picture whose YCoCg form is exact at colour loss level 1 (channels are multiples of 4). With
 * `blocks`, each 2×2 block is one colour plus a per-pixel grey offset, so Co and Cg are constant per
 * block and survive chroma subsampling unchanged while luma still varies per pixel. Blocks pair
 * plane rows, and planes are bottom-up, so with an odd height the lone row is the picture's top one.
 */
function exactPicture(w: number, h: number, blocks: boolean): Uint8Array {
  const noise = makeImage("noise", w, h);
  const img = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const blockRow = h - 1 - (((h - 1 - y) >> 1) << 1);
      const base = blocks ? (blockRow * w + ((x >> 1) << 1)) * 4 : i;
      const k = blocks ? noise[i] & 0x3c : 0;
      for (let c = 0; c < 3; c++) img[i + c] = ((noise[base + c] % 192) & 0xfc) + k;
      img[i + 3] = 255;
    }
  }
  return img;
}

Deno.test("decodePlanar() inverts YCoCg exactly at colour loss level 1", () => {
  for (const rle of [true, false]) {
    const src = exactPicture(33, 17, false);
    assert.deepEqual(decodePlanar(encodePlanar(src, 33, 17, { cll: 1, rle }), 33, 17), src);
  }
});

Deno.test("decodePlanar() super-samples subsampled chroma over 2×2 blocks", () => {
  for (const [w, h] of [[8, 6], [7, 5]]) {
    const src = exactPicture(w, h, true);
    assert.deepEqual(decodePlanar(encodePlanar(src, w, h, { cll: 1, cs: true }), w, h), src, `${w}x${h}`);
  }
});

Deno.test("decodePlanar() stays close to the source at higher colour loss levels", () => {
  const src = makeImage("gradient", 40, 20);
  for (const cll of [2, 3, 4]) {
    const out = decodePlanar(encodePlanar(src, 40, 20, { cll }), 40, 20);
    let worst = 0;
    for (let i = 0; i < src.length; i++) worst = Math.max(worst, Math.abs(out[i] - src[i]));
    assert.ok(worst <= 1 << cll, `cll ${cll}: max error ${worst}`);
  }
});

const bad: [string, string, number, number, string][] = [
  ["an empty stream", "", 2, 2, "truncated"],
  ["chroma subsampling without colour loss", "38 00", 1, 1, "malformed"],
  ["a zero control byte", "30 00", 2, 1, "malformed"],
  ["a segment longer than the scan line", "30 13 01", 2, 1, "malformed"],
  ["RLE raw bytes past the end", "30 20 01", 2, 1, "truncated"],
  ["a missing plane", "30 10 01 10 02", 1, 1, "truncated"],
  ["a short raw plane", "20 01 02 03", 2, 1, "truncated"],
];
for (const [name, stream, w, h, code] of bad) {
  Deno.test(`decodePlanar() rejects ${name}`, () => {
    assert.throws(() => decodePlanar(hex(stream), w, h), (e) => {
      assert.ok(e instanceof RenderError);
      assert.equal(e.code, code);
      return true;
    });
  });
}

Deno.test("decodePlanar() turns random input into a picture or a RenderError", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = randomBytes(seed, 4);
    const w = 1 + (r[0] & 7), h = 1 + (r[1] & 7);
    const src = randomBytes(seed * 31, 1 + (r[2] & 127));
    src[0] &= 0x3f; // keep reserved header bits clear so more inputs get past the header
    try {
      assert.equal(decodePlanar(src, w, h).length, w * h * 4);
    } catch (e) {
      if (!(e instanceof RenderError)) throw e;
    }
  }
});
