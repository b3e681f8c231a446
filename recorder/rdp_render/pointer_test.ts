import assert from "node:assert/strict";
import { ByteReader } from "./byte_reader.ts";
import { RenderError } from "./errors.ts";
import {
  buildShape,
  defaultPointer,
  drawPointer,
  type PointerShape,
  readColorPointer,
  readLargePointer,
  readNewPointer,
} from "./pointer.ts";
import { colorPointerAttr, largePointerAttr, newPointerAttr, type PointerSpec } from "./testdata/pdu.ts";

const BG = [10, 20, 30];

function canvas(w: number, h: number): Uint8Array {
  const c = new Uint8Array(w * h * 4);
  for (let i = 0; i < c.length; i += 4) c.set([...BG, 255], i);
  return c;
}

function drawn(
  shape: PointerShape,
  x: number,
  y: number,
  w = 4,
  h = 4,
): (px: number, py: number) => number[] {
  const c = canvas(w, h);
  drawPointer(c, w, h, shape, x, y);
  return (px, py) => [...c.subarray((py * w + px) * 4, (py * w + px) * 4 + 3)];
}

// 2×2, 24 bpp: red opaque | black+AND (transparent) / white+AND (invert) | blue+AND (XOR blue).
const colour24: PointerSpec = {
  cacheIndex: 3,
  hotX: 0,
  hotY: 0,
  width: 2,
  height: 2,
  xorBpp: 24,
  xor: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, /* top row: */ 0, 0, 0xff, 0, 0, 0]), // bottom-up BGR
  and: new Uint8Array([0xc0, 0, 0x40, 0]), // bottom-up, rows padded to 2 bytes
};

Deno.test("readColorPointer() applies AND/XOR semantics: opaque, transparent, inverted, XOR", () => {
  const { cacheIndex, shape } = readColorPointer(new ByteReader(colorPointerAttr(colour24)));
  assert.equal(cacheIndex, 3);
  const at = drawn(shape, 1, 1);
  assert.deepEqual(at(1, 1), [255, 0, 0]);
  assert.deepEqual(at(2, 1), BG);
  assert.deepEqual(at(1, 2), [245, 235, 225]);
  assert.deepEqual(at(2, 2), [10, 20, 30 ^ 255]);
  assert.deepEqual(at(0, 0), BG);
});

Deno.test("readNewPointer() blends 32 bpp pointers by their alpha", () => {
  const spec = {
    ...colour24,
    width: 1,
    height: 1,
    xorBpp: 32,
    xor: new Uint8Array([0, 0, 255, 128]),
    and: new Uint8Array(0),
  };
  const { shape } = readNewPointer(new ByteReader(newPointerAttr(spec)));
  assert.deepEqual(drawn(shape, 0, 0)(0, 0), [133, 10, 15]);
});

Deno.test("readNewPointer() reads 1 bpp pointers top-down with monochrome AND/XOR rules", () => {
  const spec: PointerSpec = {
    ...colour24,
    width: 8,
    height: 2,
    xorBpp: 1,
    xor: new Uint8Array([0xa0, 0, 0x50, 0]),
    and: new Uint8Array([0xc0, 0, 0x00, 0]),
  };
  const { shape } = readNewPointer(new ByteReader(newPointerAttr(spec)));
  const at = drawn(shape, 0, 0, 8, 2);
  assert.deepEqual([0, 1, 2, 3].map((x) => at(x, 0)), [[245, 235, 225], BG, [255, 255, 255], [0, 0, 0]]);
  assert.deepEqual([0, 1, 2, 3].map((x) => at(x, 1)), [[0, 0, 0], [255, 255, 255], [0, 0, 0], [
    255,
    255,
    255,
  ]]);
});

Deno.test("readNewPointer() reads 16 bpp XOR data as RGB555", () => {
  const spec = {
    ...colour24,
    width: 1,
    height: 1,
    xorBpp: 16,
    xor: new Uint8Array([0x00, 0x7c]),
    and: new Uint8Array([0, 0]),
  };
  const { shape } = readNewPointer(new ByteReader(newPointerAttr(spec)));
  assert.deepEqual(drawn(shape, 0, 0)(0, 0), [255, 0, 0]);
});

Deno.test("readLargePointer() reads 32-bit mask lengths", () => {
  const xor = new Uint8Array(2 * 4).fill(0xff); // 2×1 opaque white, 32 bpp
  const spec = { ...colour24, cacheIndex: 7, width: 2, height: 1, xorBpp: 32, xor, and: new Uint8Array(2) };
  const { cacheIndex, shape } = readLargePointer(new ByteReader(largePointerAttr(spec)));
  assert.equal(cacheIndex, 7);
  assert.deepEqual(drawn(shape, 2, 0)(3, 0), [255, 255, 255]);
});

Deno.test("drawPointer() places the hotspot at the position and clips at the edges", () => {
  const { shape } = readColorPointer(new ByteReader(colorPointerAttr({ ...colour24, hotX: 1, hotY: 1 })));
  const at = drawn(shape, 0, 0);
  assert.deepEqual(at(0, 0), [10, 20, 30 ^ 255]); // the shape's bottom-right pixel
  const far = drawn(shape, 4, 4); // hotspot just outside: only the top-left pixel lands at (3,3)
  assert.deepEqual(far(3, 3), [255, 0, 0]);
});

Deno.test("defaultPointer() is a black-outlined arrow with its hotspot at the tip", () => {
  const p = defaultPointer();
  assert.deepEqual([p.hotX, p.hotY], [0, 0]);
  const at = drawn(p, 0, 0, 16, 24);
  assert.deepEqual(at(0, 0), [0, 0, 0]);
  assert.deepEqual(at(1, 2), [255, 255, 255]);
  assert.deepEqual(at(11, 0), BG);
});

const bad: [string, () => unknown, string][] = [
  [
    "a pointer wider than 384",
    () => buildShape(385, 1, 0, 0, 32, new Uint8Array(385 * 4), new Uint8Array(0)),
    "malformed",
  ],
  ["a short XOR mask", () => buildShape(2, 2, 0, 0, 24, new Uint8Array(11), new Uint8Array(0)), "truncated"],
  ["a short AND mask", () => buildShape(2, 2, 0, 0, 24, new Uint8Array(12), new Uint8Array(3)), "truncated"],
  [
    "8 bpp (palette)",
    () => buildShape(2, 2, 0, 0, 8, new Uint8Array(4), new Uint8Array(4)),
    "unsupported_update",
  ],
  ["7 bpp", () => buildShape(2, 2, 0, 0, 7, new Uint8Array(64), new Uint8Array(4)), "malformed"],
  [
    "1 bpp without AND mask",
    () => buildShape(8, 1, 0, 0, 1, new Uint8Array(2), new Uint8Array(0)),
    "malformed",
  ],
  [
    "a truncated attribute",
    () => readColorPointer(new ByteReader(colorPointerAttr(colour24).subarray(0, 20))),
    "truncated",
  ],
];
for (const [name, fn, code] of bad) {
  Deno.test(`pointer decoding rejects ${name}`, () => {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof RenderError);
      assert.equal(e.code, code);
      return true;
    });
  });
}

Deno.test("buildShape() with zero size draws nothing", () => {
  const shape = buildShape(0, 0, 0, 0, 24, new Uint8Array(0), new Uint8Array(0));
  assert.deepEqual(drawn(shape, 1, 1)(1, 1), BG);
});
