import assert from "node:assert/strict";
import { ByteReader } from "./byte_reader.ts";
import { RenderError } from "./errors.ts";
import { createRenderer, type Renderer } from "./renderer.ts";
import { demandActiveDesktop, sharePdus } from "./slowpath.ts";
import {
  bitmapUpdate,
  cat,
  colorPointerAttr,
  deactivateAll,
  demandActive,
  largePointerAttr,
  newPointerAttr,
  type PointerSpec,
  shareData,
  slowPointer,
  slowUpdate,
  solid32,
  W,
} from "./testdata/pdu.ts";

const px = (r: Renderer, x: number, y: number) => {
  const f = r.frame();
  return [...f.rgba.subarray((y * f.width + x) * 4, (y * f.width + x) * 4 + 3)];
};

const bitmapPdu = (w: number, h: number, rgb: number[], left = 0, top = 0) =>
  shareData(0x02, bitmapUpdate({ left, top, width: w, height: h, bpp: 32, data: solid32(w, h, rgb) }));

Deno.test("demandActiveDesktop() reads the size from the Bitmap Capability Set", () => {
  const [pdu] = [...sharePdus(demandActive(1280, 800, 16))];
  assert.equal(pdu.type, 1);
  assert.deepEqual(demandActiveDesktop(pdu.body), { width: 1280, height: 800, bpp: 16 });
});

Deno.test("feedServerSlowPath() resizes the desktop on Deactivate All + Demand Active", () => {
  const r = createRenderer({ width: 4, height: 4 });
  r.feedServerSlowPath(slowPointer(1, new W().u32(0).done())); // hide the pointer
  r.feedServerSlowPath(bitmapPdu(2, 2, [9, 9, 9]));
  r.feedServerSlowPath(deactivateAll());
  assert.equal(r.width, 4);
  r.feedServerSlowPath(demandActive(6, 3));
  const f = r.frame();
  assert.deepEqual([f.width, f.height, f.rgba.length], [6, 3, 6 * 3 * 4]);
  assert.deepEqual(px(r, 1, 1), [9, 9, 9]); // kept until the server repaints
  assert.deepEqual(px(r, 5, 2), [0, 0, 0]);
});

Deno.test("feedServerSlowPath() draws bitmap updates and skips synchronize, flow and other PDUs", () => {
  const r = createRenderer({ width: 4, height: 4 });
  r.feedServerSlowPath(slowPointer(1, new W().u32(0).done()));
  const flow = new W().u16(0x8000).u8(0).u8(0x42).u8(0).u8(0).u16(1002).done();
  const control = shareData(0x14, new W().u16(4).u16(0).u32(0).done());
  r.feedServerSlowPath(
    cat(flow, slowUpdate(3, new W().u16(0).done()), control, bitmapPdu(1, 1, [1, 2, 3], 3, 3)),
  );
  assert.deepEqual(px(r, 3, 3), [1, 2, 3]);
});

const p24: PointerSpec = {
  cacheIndex: 1,
  hotX: 0,
  hotY: 0,
  width: 1,
  height: 1,
  xorBpp: 24,
  xor: new Uint8Array([0, 255, 0, 0]), // green (B, G, R), the 3-byte row padded to 2-byte alignment
  and: new Uint8Array([0, 0]),
};

Deno.test("feedServerSlowPath() handles every pointer message type", () => {
  const r = createRenderer({ width: 8, height: 8 });
  r.feedServerSlowPath(slowPointer(3, new W().u16(2).u16(3).done())); // POSITION
  assert.deepEqual([r.pointer.x, r.pointer.y], [2, 3]);
  r.feedServerSlowPath(slowPointer(6, colorPointerAttr(p24))); // COLOR
  assert.deepEqual(px(r, 2, 3), [0, 255, 0]);
  r.feedServerSlowPath(slowPointer(1, new W().u32(0).done())); // SYSTEM null
  assert.deepEqual(px(r, 2, 3), [0, 0, 0]);
  r.feedServerSlowPath(slowPointer(1, new W().u32(0x7f00).done())); // SYSTEM default arrow
  assert.deepEqual(px(r, 3, 5), [255, 255, 255]);
  r.feedServerSlowPath(
    slowPointer(
      8,
      newPointerAttr({ ...p24, cacheIndex: 2, xorBpp: 32, xor: new Uint8Array([0, 0, 255, 255]) }),
    ),
  );
  assert.deepEqual(px(r, 2, 3), [255, 0, 0]);
  r.feedServerSlowPath(slowPointer(7, new W().u16(1).done())); // CACHED
  assert.deepEqual(px(r, 2, 3), [0, 255, 0]);
  r.feedServerSlowPath(
    slowPointer(9, largePointerAttr({ ...p24, cacheIndex: 3, xor: new Uint8Array([255, 0, 0, 0]) })),
  );
  assert.deepEqual(px(r, 2, 3), [0, 0, 255]);
});

const bad: [string, Uint8Array, string][] = [
  ["slow-path orders", slowUpdate(0, new W().u16(0).u16(0).done()), "unsupported_update"],
  ["slow-path palette", slowUpdate(2, new Uint8Array(8)), "unsupported_update"],
  ["an unknown updateType", slowUpdate(9), "malformed"],
  ["bulk-compressed share data", shareData(0x02, new Uint8Array(4), 0x21), "compressed"],
  ["an unknown pointer message", slowPointer(2, new Uint8Array(4)), "malformed"],
  ["an unknown system pointer", slowPointer(1, new W().u32(5).done()), "malformed"],
  ["a share control length past the data", demandActive(10, 10).subarray(0, 20), "truncated"],
  ["a share control length below 4", new Uint8Array([2, 0, 0x17, 0]), "malformed"],
  [
    "a Demand Active without bitmap capability",
    (() => {
      const body = new W().u32(1).u16(0).u16(4).u16(0).u16(0).u32(0).done();
      return cat(new W().u16(body.length + 6).u16(0x11).u16(1002).done(), body);
    })(),
    "malformed",
  ],
  ["a zero desktop size", demandActive(0, 10), "malformed"],
];
for (const [name, pdu, code] of bad) {
  Deno.test(`feedServerSlowPath() rejects ${name}`, () => {
    const r = createRenderer({ width: 4, height: 4 });
    assert.throws(() => r.feedServerSlowPath(pdu), (e) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.code, code);
      return true;
    });
  });
}

Deno.test("sharePdus() splits concatenated PDUs and exposes their bodies", () => {
  const pdus = [...sharePdus(cat(deactivateAll(), demandActive(3, 2)))];
  assert.deepEqual(pdus.map((p) => p.type), [6, 1]);
  assert.ok(pdus[0].body instanceof ByteReader);
});

/** A real resize captured from freerdp-shadow (tests/fixtures/rdp/gen_shadow_resize.ts): its Deactivate All
 * and its Demand Active for the new desktop, as the proxy recorded them. */
async function capturedResize() {
  const url = new URL("../../tests/fixtures/rdp/shadow_resize.json", import.meta.url);
  const j = JSON.parse(await Deno.readTextFile(url));
  const bytes = (h: string) => Uint8Array.from(h.split(" "), (b) => parseInt(b, 16));
  return { ...j, deactivateAll: bytes(j.deactivateAll), demandActive: bytes(j.demandActive) } as {
    from: { width: number; height: number };
    to: { width: number; height: number };
    deactivateAll: Uint8Array;
    demandActive: Uint8Array;
  };
}

Deno.test("a captured freerdp-shadow resize (Deactivate All, then Demand Active) grows the desktop", async () => {
  const c = await capturedResize();
  assert.deepEqual([...sharePdus(c.deactivateAll)].map((p) => p.type), [0x6]);
  const [demand] = [...sharePdus(c.demandActive)];
  assert.deepEqual(demandActiveDesktop(demand.body), { ...c.to, bpp: 32 });

  const r = createRenderer(c.from);
  r.feedServerSlowPath(slowPointer(1, new W().u32(0).done())); // hide the pointer
  r.feedServerSlowPath(bitmapPdu(2, 2, [9, 9, 9], 10, 10));
  r.feedServerSlowPath(c.deactivateAll);
  assert.deepEqual([r.width, r.height], [c.from.width, c.from.height], "nothing changes until Demand Active");
  r.feedServerSlowPath(c.demandActive);
  const f = r.frame();
  assert.deepEqual([f.width, f.height], [c.to.width, c.to.height]);
  assert.deepEqual(px(r, 10, 10), [9, 9, 9]); // kept until the server repaints
  // the new area takes updates
  r.feedServerSlowPath(bitmapPdu(1, 1, [1, 2, 3], c.to.width - 1, c.to.height - 1));
  assert.deepEqual(px(r, c.to.width - 1, c.to.height - 1), [1, 2, 3]);
});
