import assert from "node:assert/strict";
import { RenderError } from "./errors.ts";
import { decodeInterleaved } from "./interleaved.ts";
import { nativeToRgba } from "./pixels.ts";
import { hex, loadFreeRdpFixtures, randomBytes, sha256Hex } from "./testdata/fixtures.ts";
import { makeImage, quantize } from "./testdata/images.ts";

/** Decoded native pixels as integers, in stream order (bottom-up). */
function pixels(src: Uint8Array, w: number, h: number, bpp = 24): number[] {
  const raw = decodeInterleaved(src, w, h, bpp);
  const out: number[] = [];
  for (let i = 0; i < raw.length; i += bpp === 24 ? 3 : 2) {
    out.push(bpp === 24 ? raw[i] | (raw[i + 1] << 8) | (raw[i + 2] << 16) : raw[i] | (raw[i + 1] << 8));
  }
  return out;
}

const W = 0xffffff;
const P = "332211"; // the 24 bpp pixel 0x112233 (bytes B, G, R)

// [name, width, height, hex stream, expected pixels (stream order), bpp]
const cases: [string, number, number, string, number[], number?][] = [
  ["REGULAR_COLOR_IMAGE copies pixels", 2, 1, `82 ${P} 665544`, [0x112233, 0x445566]],
  ["REGULAR_COLOR_RUN repeats a pixel", 3, 1, `63 ${P}`, [0x112233, 0x112233, 0x112233]],
  [
    "a zero regular length reads length+32 from the next byte",
    40,
    1,
    "60 08 010203",
    Array(40).fill(0x030201),
  ],
  ["MEGA_MEGA_COLOR_RUN takes a u16 length", 10, 30, "f3 2c01 aabbcc", Array(300).fill(0xccbbaa)],
  ["MEGA_MEGA_COLOR_IMAGE copies pixels", 2, 1, `f4 0200 ${P} 000000`, [0x112233, 0]],
  ["BG run on the first line is black", 3, 1, "03", [0, 0, 0]],
  ["BG run after the first line copies the line above", 2, 2, "82 030201 060504 02", [
    0x010203,
    0x040506,
    0x010203,
    0x040506,
  ]],
  ["MEGA_MEGA_BG_RUN", 3, 1, "f0 0300", [0, 0, 0]],
  ["a BG run right after a BG run starts with a FG pixel", 4, 1, "02 02", [0, 0, W, 0]],
  ["the inserted FG pixel XORs the line above after the first line", 2, 2, "62 302010 01 01", [
    0x102030,
    0x102030,
    0x102030,
    0x102030 ^ W,
  ]],
  ["leaving the first line cancels the FG pixel insertion", 2, 2, "02 02", [0, 0, 0, 0]],
  ["FG run paints white on the first line", 2, 1, "22", [W, W]],
  ["FG run XORs the line above later", 2, 2, "62 563412 22", [0x123456, 0x123456, 0xedcba9, 0xedcba9]],
  ["LITE_SET_FG_FG_RUN sets the FG colour", 2, 2, "c2 0c0b0a 22", [0x0a0b0c, 0x0a0b0c, 0, 0]],
  ["a zero lite length reads length+16", 17, 1, "c0 01 0c0b0a", Array(17).fill(0x0a0b0c)],
  ["MEGA_MEGA_SET_FG_RUN and MEGA_MEGA_FG_RUN", 3, 2, "f6 0300 010101 f1 0300", [
    0x010101,
    0x010101,
    0x010101,
    0,
    0,
    0,
  ]],
  ["LITE_DITHERED_RUN alternates two pixels", 4, 1, "e2 010000 020000", [1, 2, 1, 2]],
  ["MEGA_MEGA_DITHERED_RUN", 4, 1, "f8 0200 010000 020000", [1, 2, 1, 2]],
  [
    "a zero lite dithered length reads length+16 pairs",
    32,
    1,
    "e0 00 010000 020000",
    Array(16).fill([1, 2]).flat(),
  ],
  ["REGULAR_FGBG_IMAGE on the first line: set bits are FG, clear bits black", 8, 1, "41 a5", [
    W,
    0,
    W,
    0,
    0,
    W,
    0,
    W,
  ]],
  ["REGULAR_FGBG_IMAGE with explicit length", 3, 1, "40 02 05", [W, 0, W]],
  ["FGBG images longer than 8 use one mask byte per 8 pixels", 10, 1, "40 09 ff 02", [
    W,
    W,
    W,
    W,
    W,
    W,
    W,
    W,
    0,
    W,
  ]],
  ["LITE_SET_FG_FGBG_IMAGE XORs the line above after the first line", 4, 2, "64 00ff00 d0 03 ff0000 09", [
    0x00ff00,
    0x00ff00,
    0x00ff00,
    0x00ff00,
    0x00ffff,
    0x00ff00,
    0x00ff00,
    0x00ffff,
  ]],
  ["MEGA_MEGA_FGBG_IMAGE", 8, 1, "f2 0800 0f", [W, W, W, W, 0, 0, 0, 0]],
  ["MEGA_MEGA_SET_FGBG_IMAGE", 4, 1, "f7 0400 070000 06", [0, 7, 7, 0]],
  ["SPECIAL_FGBG_1 is mask 0x03", 8, 1, "f9", [W, W, 0, 0, 0, 0, 0, 0]],
  ["SPECIAL_FGBG_2 is mask 0x05", 8, 1, "fa", [W, 0, W, 0, 0, 0, 0, 0]],
  ["WHITE and BLACK orders", 2, 1, "fd fe", [W, 0]],
  ["16 bpp FG colour and white", 2, 2, "c2 3412 fd 21", [0x1234, 0x1234, 0xffff, 0], 16],
  ["15 bpp white is 0x7fff", 1, 1, "fd", [0x7fff], 15],
];

for (const [name, w, h, stream, expected, bpp] of cases) {
  Deno.test(`decodeInterleaved(): ${name}`, () => {
    assert.deepEqual(pixels(hex(stream), w, h, bpp ?? 24), expected);
  });
}

const bad: [string, number, number, string, string, number?][] = [
  ["a run longer than the bitmap", 2, 1, `63 ${P}`, "malformed"],
  ["a truncated pixel", 2, 1, "82 332211 6655", "truncated"],
  ["a missing extended length byte", 40, 1, "60", "truncated"],
  ["a truncated MEGA length", 4, 1, "f0 01", "truncated"],
  ["a missing FG/BG mask", 8, 1, "41", "truncated"],
  ["undefined order 0xF5", 4, 1, "f5", "malformed"],
  ["undefined order 0xFF", 4, 1, "ff", "malformed"],
  ["8 bpp (palette)", 4, 1, "fd", "unsupported_update", 8],
  ["32 bpp", 4, 1, "fd", "malformed", 32],
];
for (const [name, w, h, stream, code, bpp] of bad) {
  Deno.test(`decodeInterleaved() rejects ${name}`, () => {
    assert.throws(() => decodeInterleaved(hex(stream), w, h, bpp ?? 24), (e) => {
      assert.ok(e instanceof RenderError);
      assert.equal(e.code, code);
      return true;
    });
  });
}

Deno.test("decodeInterleaved() matches FreeRDP's decoder on bitmaps FreeRDP encoded", async () => {
  const fixtures = loadFreeRdpFixtures("interleaved");
  assert.ok(fixtures.length >= 12);
  for (const f of fixtures) {
    const raw = decodeInterleaved(f.data, f.width, f.height, f.bpp);
    const bpx = f.bpp === 24 ? 3 : 2;
    const rgba = nativeToRgba(raw, f.width * bpx, f.bpp, f.width, f.height, true);
    assert.equal(await sha256Hex(rgba), f.freerdpRgbaSha256, f.name);
    // FreeRDP 2.11's encoder itself is lossy in places (it emits dithered-run pixels in B,A order,
    // mangles 24 bpp sources and one FG/BG mask of "ui"), so only these pictures survive intact.
    if (f.image === "noise" || f.image === "gradient") {
      assert.deepEqual(rgba, quantize(makeImage(f.image, f.width, f.height), f.bpp), f.name);
    }
  }
});

Deno.test("decodeInterleaved() turns random input into data or a RenderError", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = randomBytes(seed, 4);
    const w = 1 + (r[0] & 15), h = 1 + (r[1] & 15), bpp = [15, 16, 24][r[2] % 3];
    const src = randomBytes(seed * 7919, r[3]);
    try {
      const out = decodeInterleaved(src, w, h, bpp);
      assert.equal(out.length, w * h * (bpp === 24 ? 3 : 2));
    } catch (e) {
      if (!(e instanceof RenderError)) throw e;
    }
  }
});
