import assert from "node:assert/strict";
import { RenderError } from "./errors.ts";
import { createRenderer, type Renderer } from "./renderer.ts";
import {
  bitmapUpdate,
  cat,
  colorPointerAttr,
  fastPathPdu,
  fpUpdate,
  largePointerAttr,
  newPointerAttr,
  type PointerSpec,
  solid32,
  W,
} from "./testdata/pdu.ts";

const px = (r: Renderer, x: number, y: number) => {
  const f = r.frame();
  return [...f.rgba.subarray((y * f.width + x) * 4, (y * f.width + x) * 4 + 3)];
};

function hidePointer(r: Renderer): void {
  r.feedServerFastPath(fastPathPdu(fpUpdate(5, new Uint8Array(0))));
}

const green = (w: number, h: number, left = 0, top = 0) =>
  bitmapUpdate({ left, top, width: w, height: h, bpp: 32, data: solid32(w, h, [0, 200, 0]) });

Deno.test("feedServerFastPath() draws a single bitmap update", () => {
  const r = createRenderer({ width: 8, height: 8 });
  hidePointer(r);
  r.feedServerFastPath(fastPathPdu(fpUpdate(1, green(2, 2, 3, 3))));
  assert.deepEqual(px(r, 3, 3), [0, 200, 0]);
  assert.deepEqual(px(r, 5, 5), [0, 0, 0]);
});

Deno.test("feedServerFastPath() reads the two-byte length form and several PDUs in one chunk", () => {
  const r = createRenderer({ width: 16, height: 16 });
  hidePointer(r);
  const big = fastPathPdu(fpUpdate(1, green(8, 8))); // > 127 bytes
  assert.ok(big[1] & 0x80);
  r.feedServerFastPath(cat(big, fastPathPdu(fpUpdate(1, green(1, 1, 15, 15)))));
  assert.deepEqual(px(r, 7, 7), [0, 200, 0]);
  assert.deepEqual(px(r, 15, 15), [0, 200, 0]);
});

Deno.test("feedServerFastPath() reassembles FIRST/NEXT/LAST fragments across PDUs", () => {
  const whole = green(4, 4);
  const parts = [whole.subarray(0, 10), whole.subarray(10, 40), whole.subarray(40)];
  const r = createRenderer({ width: 4, height: 4 });
  hidePointer(r);
  r.feedServerFastPath(fastPathPdu(fpUpdate(1, parts[0], 2)));
  assert.deepEqual(px(r, 0, 0), [0, 0, 0]); // nothing drawn before LAST
  r.feedServerFastPath(fastPathPdu(fpUpdate(1, parts[1], 3)));
  r.feedServerFastPath(fastPathPdu(fpUpdate(1, parts[2], 1)));
  assert.deepEqual(px(r, 3, 3), [0, 200, 0]);
});

Deno.test("feedServerFastPath() accepts compression flags that do not mark compressed data", () => {
  const r = createRenderer({ width: 2, height: 2 });
  hidePointer(r);
  r.feedServerFastPath(fastPathPdu(fpUpdate(1, green(1, 1), 0, 0x01)));
  assert.deepEqual(px(r, 0, 0), [0, 200, 0]);
});

const pointer24: PointerSpec = {
  cacheIndex: 2,
  hotX: 0,
  hotY: 0,
  width: 2,
  height: 1,
  xorBpp: 24,
  xor: new Uint8Array([0, 0, 255, 0, 0, 255]), // red, red
  and: new Uint8Array([0, 0]),
};

Deno.test("feedServerFastPath() handles every pointer update code", () => {
  const r = createRenderer({ width: 8, height: 8 });
  const feed = (code: number, data: Uint8Array = new Uint8Array(0)) =>
    r.feedServerFastPath(fastPathPdu(fpUpdate(code, data)));
  feed(8, new W().u16(4).u16(5).done()); // PTR_POSITION
  assert.deepEqual([r.pointer.x, r.pointer.y], [4, 5]);
  feed(9, colorPointerAttr(pointer24)); // COLOR → cache slot 2
  assert.deepEqual(px(r, 5, 5), [255, 0, 0]);
  feed(5); // PTR_NULL
  assert.equal(r.pointer.visible, false);
  assert.deepEqual(px(r, 5, 5), [0, 0, 0]);
  feed(6); // PTR_DEFAULT: the arrow's black tip
  assert.equal(r.pointer.visible, true);
  assert.deepEqual(px(r, 4, 5), [0, 0, 0]);
  assert.deepEqual(px(r, 5, 7), [255, 255, 255]);
  feed(10, new W().u16(2).done()); // CACHED slot 2
  assert.deepEqual(px(r, 5, 5), [255, 0, 0]);
  feed(
    11,
    newPointerAttr({
      ...pointer24,
      cacheIndex: 4,
      xorBpp: 32,
      xor: new Uint8Array([255, 0, 0, 255, 255, 0, 0, 255]),
    }),
  );
  assert.deepEqual(px(r, 5, 5), [0, 0, 255]);
  feed(12, largePointerAttr({ ...pointer24, cacheIndex: 5 }));
  assert.deepEqual(px(r, 5, 5), [255, 0, 0]);
  feed(10, new W().u16(4).done());
  assert.deepEqual(px(r, 5, 5), [0, 0, 255]);
  feed(3); // SYNCHRONIZE: nothing
});

const bad: [string, Uint8Array[], string][] = [
  ["orders", [fastPathPdu(fpUpdate(0, new Uint8Array([0, 0])))], "unsupported_update"],
  ["palette", [fastPathPdu(fpUpdate(2, new Uint8Array(4)))], "unsupported_update"],
  ["surface commands", [fastPathPdu(fpUpdate(4, new Uint8Array(4)))], "unsupported_update"],
  ["unknown update code 7", [fastPathPdu(fpUpdate(7, new Uint8Array(0)))], "malformed"],
  ["bulk-compressed updates", [fastPathPdu(fpUpdate(1, new Uint8Array(4), 0, 0x21))], "compressed"],
  ["encrypted PDUs", [new Uint8Array([0x80, 4, 0, 0])], "encrypted"],
  ["a slow-path (TPKT) PDU", [new Uint8Array([3, 0, 0, 4])], "malformed"],
  ["a length beyond the data", [new Uint8Array([0, 10, 1, 0])], "truncated"],
  ["a length shorter than the header", [new Uint8Array([0, 1])], "malformed"],
  ["NEXT without FIRST", [fastPathPdu(fpUpdate(1, new Uint8Array(4), 3))], "malformed"],
  ["a FIRST inside an open update", [
    fastPathPdu(fpUpdate(1, new Uint8Array(4), 2)),
    fastPathPdu(fpUpdate(1, new Uint8Array(4), 2)),
  ], "malformed"],
  ["a SINGLE inside an open update", [
    fastPathPdu(fpUpdate(1, new Uint8Array(4), 2)),
    fastPathPdu(fpUpdate(3, new Uint8Array(0))),
  ], "malformed"],
  ["a LAST of another update code", [
    fastPathPdu(fpUpdate(1, new Uint8Array(4), 2)),
    fastPathPdu(fpUpdate(11, new Uint8Array(4), 1)),
  ], "malformed"],
  [
    "a bitmap update with another updateType",
    [fastPathPdu(fpUpdate(1, new Uint8Array([2, 0, 0, 0])))],
    "malformed",
  ],
  ["a cached pointer never sent", [fastPathPdu(fpUpdate(10, new Uint8Array([9, 0])))], "pointer_cache_miss"],
  ["a pointer cache index out of range", [
    fastPathPdu(fpUpdate(9, colorPointerAttr({ ...pointer24, cacheIndex: 128 }))),
  ], "malformed"],
];
for (const [name, pdus, code] of bad) {
  Deno.test(`feedServerFastPath() rejects ${name}`, () => {
    const r = createRenderer({ width: 4, height: 4 });
    assert.throws(() => pdus.forEach((p) => r.feedServerFastPath(p)), (e) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.code, code);
      return true;
    });
  });
}
