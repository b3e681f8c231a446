import assert from "node:assert/strict";
import { createRenderer, RenderError } from "./mod.ts";
import { randomBytes } from "./testdata/fixtures.ts";
import {
  bitmapUpdate,
  colorPointerAttr,
  demandActive,
  fastPathInput,
  fastPathPdu,
  fpMouse,
  fpUpdate,
  shareData,
  slowPathMouse,
  solid32,
  W,
} from "./testdata/pdu.ts";

/** A 2×2 opaque white pointer with its hotspot top-left. */
const whitePointer = fastPathPdu(fpUpdate(
  9,
  colorPointerAttr({
    cacheIndex: 0,
    hotX: 0,
    hotY: 0,
    width: 2,
    height: 2,
    xorBpp: 24,
    xor: new Uint8Array(12).fill(255),
    and: new Uint8Array(4),
  }),
));

const pixel = (
  rgba: Uint8Array,
  w: number,
  x: number,
  y: number,
) => [...rgba.subarray((y * w + x) * 4, (y * w + x) * 4 + 4)];

Deno.test("frame() composites the pointer without touching the framebuffer", () => {
  const r = createRenderer({ width: 6, height: 4 });
  r.feedServerFastPath(
    fastPathPdu(
      fpUpdate(
        1,
        bitmapUpdate({ left: 0, top: 0, width: 6, height: 4, bpp: 32, data: solid32(6, 4, [0, 0, 90]) }),
      ),
    ),
  );
  r.feedServerFastPath(whitePointer);
  r.feedClientInput(fastPathInput(fpMouse(1, 1)));
  let f = r.frame();
  assert.deepEqual(pixel(f.rgba, 6, 1, 1), [255, 255, 255, 255]);
  assert.deepEqual(pixel(f.rgba, 6, 3, 3), [0, 0, 90, 255]);
  r.feedClientInput(fastPathInput(fpMouse(4, 2)));
  f = r.frame();
  assert.deepEqual(pixel(f.rgba, 6, 1, 1), [0, 0, 90, 255]); // the old spot shows the desktop again
  assert.deepEqual(pixel(f.rgba, 6, 5, 3), [255, 255, 255, 255]);
});

Deno.test("dirty tracks screen and pointer changes between frames", () => {
  const r = createRenderer({ width: 4, height: 4 });
  assert.equal(r.dirty, true);
  r.frame();
  assert.equal(r.dirty, false);
  r.feedServerFastPath(fastPathPdu(fpUpdate(3, new Uint8Array(0)))); // synchronize
  assert.equal(r.dirty, false);
  r.feedClientInput(fastPathInput(fpMouse(1, 1)));
  assert.equal(r.dirty, true);
  r.frame();
  r.feedClientInput(fastPathInput(fpMouse(1, 1))); // same place
  assert.equal(r.dirty, false);
  r.feedServerFastPath(fastPathPdu(fpUpdate(5, new Uint8Array(0)))); // hide
  assert.equal(r.dirty, true);
  r.frame();
  r.feedClientInput(fastPathInput(fpMouse(2, 2))); // moving a hidden pointer changes nothing visible
  assert.equal(r.dirty, false);
  r.feedServerFastPath(
    fastPathPdu(
      fpUpdate(
        1,
        bitmapUpdate({ left: 0, top: 0, width: 1, height: 1, bpp: 32, data: solid32(1, 1, [1, 1, 1]) }),
      ),
    ),
  );
  assert.equal(r.dirty, true);
  r.frame();
  r.feedServerSlowPath(demandActive(8, 8));
  assert.equal(r.dirty, true);
});

Deno.test("feedClientInput() follows absolute mouse events and ignores wheel and relative ones", () => {
  const r = createRenderer({ width: 100, height: 100 });
  const rel = new W().u8(7 << 5).u16(0x0800).u16(5).u16(5).done();
  const scan = new W().u8(0).u8(0x1e).done();
  const unicode = new W().u8(4 << 5).u16(0x41).done();
  const sync = new W().u8(3 << 5).done();
  const qoe = new W().u8(6 << 5).u32(123).done();
  r.feedClientInput(fastPathInput(scan, fpMouse(10, 20), unicode, sync, qoe, rel, fpMouse(90, 90, 0x0200)));
  assert.deepEqual([r.pointer.x, r.pointer.y], [10, 20]);
  // 16+ events use the numEvents byte; MOUSEX (code 2) carries a position too.
  const many = Array.from({ length: 17 }, (_, i) => fpMouse(i, i));
  many.push(new W().u8(2 << 5).u16(0x8000).u16(33).u16(44).done());
  r.feedClientInput(fastPathInput(...many));
  assert.deepEqual([r.pointer.x, r.pointer.y], [33, 44]);
  r.feedClientInput(slowPathMouse([[7, 8], [50, 60, 0x0200]]), "slowpath");
  assert.deepEqual([r.pointer.x, r.pointer.y], [7, 8]);
  r.feedClientInput(shareData(0x14, new W().u16(4).u16(0).u32(0).done()), "slowpath"); // not input: ignored
  assert.deepEqual([r.pointer.x, r.pointer.y], [7, 8]);
});

Deno.test("feedClientInput() rejects encrypted and malformed input PDUs", () => {
  const r = createRenderer({ width: 4, height: 4 });
  for (
    const [pdu, code] of [
      [new Uint8Array([0x80 | (1 << 2), 9, 0x20, 0, 8, 1, 0, 1, 0]), "encrypted"],
      [new Uint8Array([1 << 2, 4, 5 << 5, 0]), "malformed"], // event code 5 does not exist
      [new Uint8Array([1 << 2, 5, 1 << 5, 0, 8]), "truncated"],
    ] as const
  ) {
    assert.throws(() => r.feedClientInput(pdu), (e) => e instanceof RenderError && e.code === code);
  }
});

Deno.test("renderer turns random PDUs into updates or RenderErrors, never other errors", () => {
  for (let seed = 1; seed <= 4000; seed++) {
    const r = createRenderer({ width: 32, height: 32 });
    const head = randomBytes(seed, 2);
    const body = randomBytes(seed * 13, head[1]);
    // Give the fuzzer valid framing half of the time so the update decoders get exercised.
    const pdus = [body, fastPathPdu(fpUpdate(head[0] % 13, body))];
    for (const pdu of pdus) {
      for (
        const feed of [
          () => r.feedServerFastPath(pdu),
          () => r.feedServerSlowPath(pdu),
          () => r.feedClientInput(pdu),
        ]
      ) {
        try {
          feed();
        } catch (e) {
          if (!(e instanceof RenderError)) throw e;
        }
      }
    }
    r.frame();
  }
});

Deno.test("frame() refreshed by damage equals a frame drawn from scratch, and damage covers every change", () => {
  const [w, h] = [40, 36]; // partial cells at the right and bottom
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  type Kind = "server" | "slow" | "input";
  const pdus: [Uint8Array, Kind][] = [];
  const feed = (r: ReturnType<typeof createRenderer>, [pdu, kind]: [Uint8Array, Kind]) =>
    kind === "server"
      ? r.feedServerFastPath(pdu)
      : kind === "slow"
      ? r.feedServerSlowPath(pdu)
      : r.feedClientInput(pdu);
  const live = createRenderer({ width: w, height: h });
  let prev: Uint8Array | null = null, prevSize = "";
  for (let step = 0; step < 300; step++) {
    const k = rand(10);
    let pdu: [Uint8Array, Kind];
    if (k < 5) {
      const [x, y] = [rand(w), rand(h)];
      const [bw, bh] = [1 + rand(w - x), 1 + rand(h - y)];
      const colour = [rand(256), rand(256), rand(256)];
      const update = bitmapUpdate({
        left: x,
        top: y,
        width: bw,
        height: bh,
        bpp: 32,
        data: solid32(bw, bh, colour),
      });
      pdu = [fastPathPdu(fpUpdate(1, update)), "server"];
    } else if (k < 8) pdu = [fastPathInput(fpMouse(rand(w + 4), rand(h + 4))), "input"];
    else if (k === 8) pdu = [whitePointer, "server"];
    else if (rand(4)) pdu = [fastPathPdu(fpUpdate(5, new Uint8Array(0))), "server"]; // hide
    else pdu = [demandActive(rand(2) ? 24 : w, rand(2) ? 20 : h), "slow"]; // a desktop resize
    pdus.push(pdu);
    feed(live, pdu);
    if (rand(3) !== 0) continue;
    const f = live.frame();
    const fresh = createRenderer({ width: w, height: h });
    for (const p of pdus) feed(fresh, p);
    assert.deepEqual(f.rgba, fresh.frame().rgba, `step ${step}`);
    if (prev && prevSize === `${f.width}x${f.height}`) {
      for (let i = 0; i < f.width * f.height; i++) {
        const [x, y] = [i % f.width, Math.floor(i / f.width)];
        if (f.damage.cells[Math.floor(y / 16) * f.damage.cols + Math.floor(x / 16)]) continue;
        assert.deepEqual(f.rgba.subarray(i * 4, i * 4 + 4), prev.subarray(i * 4, i * 4 + 4), `${x},${y}`);
      }
    }
    [prev, prevSize] = [f.rgba.slice(), `${f.width}x${f.height}`];
  }
});
