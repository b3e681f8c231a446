import assert from "node:assert/strict";
import { applyBitmapUpdate, decodeBitmapData } from "./bitmap.ts";
import { ByteReader } from "./byte_reader.ts";
import { RenderError } from "./errors.ts";
import { Framebuffer } from "./framebuffer.ts";
import { loadFreeRdpFixtures } from "./testdata/fixtures.ts";
import { makeImage, quantize, toNative } from "./testdata/images.ts";
import { bitmapData, type BitmapSpec, bitmapUpdate, solid32 } from "./testdata/pdu.ts";
import { encodePlanar } from "./testdata/planar_encoder.ts";

const px = (
  fb: Framebuffer,
  x: number,
  y: number,
) => [...fb.data.subarray((y * fb.width + x) * 4, (y * fb.width + x) * 4 + 4)];

function paint(fb: Framebuffer, ...rects: BitmapSpec[]): void {
  const bytes = bitmapUpdate(...rects);
  const r = new ByteReader(bytes);
  r.skip(2); // updateType
  assert.equal(applyBitmapUpdate(r, fb), rects.length);
  assert.equal(r.remaining, 0);
}

Deno.test("applyBitmapUpdate() draws uncompressed bottom-up bitmaps at 15, 16, 24 and 32 bpp", () => {
  const img = makeImage("gradient", 4, 3);
  for (const bpp of [15, 16, 24, 32]) {
    const fb = new Framebuffer(10, 8);
    paint(fb, { left: 5, top: 4, width: 4, height: 3, bpp, data: toNative(img, 4, 3, bpp) });
    const want = quantize(img, bpp);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        assert.deepEqual(
          px(fb, 5 + x, 4 + y),
          [...want.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4)],
          `${bpp}`,
        );
      }
    }
    assert.deepEqual(px(fb, 4, 4), [0, 0, 0, 255]);
  }
});

Deno.test("applyBitmapUpdate() reads 24 bpp rows padded to 4 bytes", () => {
  const img = makeImage("noise", 3, 2);
  const tight = toNative(img, 3, 2, 24); // 9 bytes a row
  const padded = new Uint8Array(24);
  padded.set(tight.subarray(0, 9), 0);
  padded.set(tight.subarray(9, 18), 12);
  const fb = new Framebuffer(3, 2);
  paint(fb, { left: 0, top: 0, width: 3, height: 2, bpp: 24, data: padded });
  assert.deepEqual(fb.data, quantize(img, 24));
});

Deno.test("applyBitmapUpdate() clips to destRight/destBottom and to the desktop", () => {
  const fb = new Framebuffer(6, 4);
  // A 4×2 bitmap whose last column is padding: only destRight − destLeft + 1 = 3 columns show.
  paint(fb, { left: 1, top: 1, width: 4, height: 2, right: 3, bpp: 32, data: solid32(4, 2, [200, 0, 0]) });
  assert.deepEqual(px(fb, 3, 1), [200, 0, 0, 255]);
  assert.deepEqual(px(fb, 4, 1), [0, 0, 0, 255]);
  // Off the bottom-right edge: clipped, no error.
  paint(fb, { left: 5, top: 3, width: 4, height: 4, bpp: 32, data: solid32(4, 4, [0, 9, 0]) });
  assert.deepEqual(px(fb, 5, 3), [0, 9, 0, 255]);
});

Deno.test("applyBitmapUpdate() decodes interleaved RLE with and without TS_CD_HEADER", () => {
  const f = loadFreeRdpFixtures("interleaved").find((f) => f.image === "gradient" && f.bpp === 16)!;
  const want = quantize(makeImage("gradient", f.width, f.height), 16);
  for (const cdHeader of [true, false]) {
    const fb = new Framebuffer(f.width, f.height);
    paint(fb, {
      left: 0,
      top: 0,
      width: f.width,
      height: f.height,
      bpp: 16,
      data: f.data,
      compressed: true,
      cdHeader,
    });
    assert.deepEqual(fb.data, want);
  }
});

Deno.test("applyBitmapUpdate() decodes 32 bpp compressed bitmaps as RDP 6.0 planar", () => {
  const img = makeImage("ui", 64, 64);
  const fb = new Framebuffer(64, 64);
  paint(fb, {
    left: 0,
    top: 0,
    width: 64,
    height: 64,
    bpp: 32,
    data: encodePlanar(img, 64, 64),
    compressed: true,
  });
  assert.deepEqual(fb.data, img);
});

Deno.test("applyBitmapUpdate() draws planar tiles in place or clipped exactly as a blit of the picture", () => {
  const [W, H] = [100, 70];
  const reference = new Framebuffer(W, H), fb = new Framebuffer(W, H);
  const cases: [number, number, number, number, number?, number?][] = [
    [10, 5, 32, 20], // in place, mid-screen
    [0, 0, 64, 64], // in place at the origin
    [W - 30, H - 20, 30, 20], // in place against the bottom-right edge
    [80, 60, 40, 30], // past the desktop: decoded apart and clipped
    [20, 30, 16, 12, 10, 8], // destRight/destBottom narrower than the bitmap
  ];
  fb.takeDamage();
  cases.forEach(([left, top, width, height, dw, dh], i) => {
    const img = makeImage(i % 2 ? "gradient" : "ui", width, height);
    const right = dw === undefined ? undefined : left + dw - 1,
      bottom = dh === undefined ? undefined : top + dh - 1;
    paint(fb, {
      left,
      top,
      width,
      height,
      bpp: 32,
      data: encodePlanar(img, width, height),
      compressed: true,
      right,
      bottom,
    });
    reference.blit(img, width, left, top, Math.min(dw ?? width, width), Math.min(dh ?? height, height));
    assert.deepEqual(fb.data, reference.data, `case ${i}`);
  });
  const damage = fb.takeDamage(); // every painted cell is marked
  for (const [left, top] of cases) {
    assert.equal(damage.cells[Math.floor(top / 16) * damage.cols + Math.floor(left / 16)], 1);
  }
});

const bad: [string, BitmapSpec | Uint8Array, string][] = [
  ["8 bpp", { left: 0, top: 0, width: 4, height: 1, bpp: 8, data: new Uint8Array(4) }, "unsupported_update"],
  [
    "12 bpp",
    { left: 0, top: 0, width: 4, height: 1, bpp: 12, data: new Uint8Array(8) },
    "unsupported_update",
  ],
  ["zero width", { left: 0, top: 0, width: 0, height: 1, bpp: 32, data: new Uint8Array(0) }, "malformed"],
  ["a huge compressed bitmap", {
    left: 0,
    top: 0,
    width: 65535,
    height: 65535,
    bpp: 16,
    data: new Uint8Array([0xfd]),
    compressed: true,
  }, "malformed"],
  ["inverted destination", {
    left: 5,
    top: 0,
    right: 4,
    width: 1,
    height: 1,
    bpp: 32,
    data: solid32(1, 1, [0, 0, 0]),
  }, "malformed"],
  [
    "short pixel data",
    { left: 0, top: 0, width: 4, height: 4, bpp: 32, data: solid32(4, 3, [0, 0, 0]) },
    "truncated",
  ],
  [
    "a body longer than the compression header allows",
    (() => {
      const b = bitmapData({
        left: 0,
        top: 0,
        width: 4,
        height: 1,
        bpp: 16,
        data: new Uint8Array([0x64, 0, 0]),
        compressed: true,
        cdHeader: true,
      });
      b[18 + 2] = 200; // cbCompMainBodySize
      return b;
    })(),
    "truncated",
  ],
  [
    "bitmapLength past the end",
    bitmapData({ left: 0, top: 0, width: 1, height: 1, bpp: 32, data: solid32(1, 1, [0, 0, 0]) }).subarray(
      0,
      20,
    ),
    "truncated",
  ],
];
for (const [name, spec, code] of bad) {
  Deno.test(`decodeBitmapData() rejects ${name}`, () => {
    const bytes = spec instanceof Uint8Array ? spec : bitmapData(spec);
    assert.throws(() => decodeBitmapData(new ByteReader(bytes)), (e) => {
      assert.ok(e instanceof RenderError);
      assert.equal(e.code, code);
      return true;
    });
  });
}
