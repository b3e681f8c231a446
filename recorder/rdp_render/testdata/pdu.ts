// Test-only builders for the PDUs the renderer reads (MS-RDPBCGR layouts, little-endian).

export class W {
  #b: number[] = [];
  u8(v: number): this {
    this.#b.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  bytes(b: Uint8Array | number[]): this {
    for (const x of b) this.#b.push(x & 0xff);
    return this;
  }
  get length(): number {
    return this.#b.length;
  }
  done(): Uint8Array {
    return new Uint8Array(this.#b);
  }
}

export const cat = (...parts: Uint8Array[]): Uint8Array => new W().bytes(parts.flatMap((p) => [...p])).done();

// ---- fast-path output ----

/** TS_FP_UPDATE_PDU with fpOutputHeader 0 (action fast-path, no flags) around the updates. */
export function fastPathPdu(...updates: Uint8Array[]): Uint8Array {
  const body = cat(...updates);
  const len = body.length + 2 < 0x80 ? body.length + 2 : body.length + 3;
  const w = new W().u8(0);
  if (len < 0x80) w.u8(len);
  else w.u8(0x80 | (len >> 8)).u8(len);
  return w.bytes(body).done();
}

export function fpUpdate(code: number, data: Uint8Array, frag = 0, compressionFlags?: number): Uint8Array {
  const w = new W().u8(code | (frag << 4) | (compressionFlags === undefined ? 0 : 0x80));
  if (compressionFlags !== undefined) w.u8(compressionFlags);
  return w.u16(data.length).bytes(data).done();
}

// ---- bitmaps ----

export interface BitmapSpec {
  left: number;
  top: number;
  width: number;
  height: number;
  bpp: number;
  data: Uint8Array;
  /** Defaults to left + width − 1 / top + height − 1. */
  right?: number;
  bottom?: number;
  compressed?: boolean;
  /** With `compressed`: prepend a TS_CD_HEADER (else set NO_BITMAP_COMPRESSION_HDR). */
  cdHeader?: boolean;
}

export function bitmapData(b: BitmapSpec): Uint8Array {
  const flags = b.compressed ? 0x0001 | (b.cdHeader ? 0 : 0x0400) : 0;
  const body = b.compressed && b.cdHeader
    ? cat(new W().u16(0).u16(b.data.length).u16(b.width * 2).u16(0).done(), b.data)
    : b.data;
  return new W()
    .u16(b.left).u16(b.top).u16(b.right ?? b.left + b.width - 1).u16(b.bottom ?? b.top + b.height - 1)
    .u16(b.width).u16(b.height).u16(b.bpp).u16(flags).u16(body.length).bytes(body).done();
}

/** TS_UPDATE_BITMAP_DATA: updateType 1, numberRectangles, rectangles. */
export function bitmapUpdate(...rects: BitmapSpec[]): Uint8Array {
  return cat(new W().u16(1).u16(rects.length).done(), ...rects.map(bitmapData));
}

/** Uncompressed bottom-up 32 bpp (B, G, R, X) pixels of one colour. */
export function solid32(width: number, height: number, [r, g, b]: number[]): Uint8Array {
  const w = new W();
  for (let i = 0; i < width * height; i++) w.u8(b).u8(g).u8(r).u8(0);
  return w.done();
}

// ---- slow path ----

export function shareControl(type: number, body: Uint8Array): Uint8Array {
  return new W().u16(body.length + 6).u16(0x10 | type).u16(1002).bytes(body).done();
}

export function shareData(pduType2: number, body: Uint8Array, compressedType = 0): Uint8Array {
  const hdr = new W().u32(0x103ea).u8(0).u8(1).u16(body.length + 4).u8(pduType2).u8(compressedType).u16(0);
  return shareControl(0x7, cat(hdr.done(), body));
}

export function demandActive(width: number, height: number, bpp = 32): Uint8Array {
  const general = new W().u16(0x0001).u16(24).bytes(new Uint8Array(20)).done();
  const bitmap = new W().u16(0x0002).u16(28).u16(bpp).u16(1).u16(1).u16(1).u16(width).u16(height)
    .u16(0).u16(1).u16(1).u8(0).u8(0).u16(1).u16(0).done();
  const caps = cat(general, bitmap);
  const source = new TextEncoder().encode("RDP\0");
  const body = new W().u32(0x103ea).u16(source.length).u16(caps.length + 4).bytes(source).u16(2).u16(0)
    .bytes(caps).u32(0).done();
  return shareControl(0x1, body);
}

export const deactivateAll = (): Uint8Array => shareControl(0x6, new W().u32(0x103ea).u16(1).u8(0).done());

export const slowUpdate = (updateType: number, body: Uint8Array = new Uint8Array(0)): Uint8Array =>
  shareData(0x02, cat(new W().u16(updateType).done(), body));

export const slowPointer = (messageType: number, body: Uint8Array): Uint8Array =>
  shareData(0x1b, cat(new W().u16(messageType).u16(0).done(), body));

// ---- pointers ----

export interface PointerSpec {
  cacheIndex: number;
  hotX: number;
  hotY: number;
  width: number;
  height: number;
  xorBpp: number;
  /** Rows as given in the PDU (bottom-up unless 1 bpp), already padded. */
  xor: Uint8Array;
  and: Uint8Array;
}

export function colorPointerAttr(p: PointerSpec): Uint8Array {
  return new W().u16(p.cacheIndex).u16(p.hotX).u16(p.hotY).u16(p.width).u16(p.height)
    .u16(p.and.length).u16(p.xor.length).bytes(p.xor).bytes(p.and).done();
}

export const newPointerAttr = (p: PointerSpec): Uint8Array =>
  cat(new W().u16(p.xorBpp).done(), colorPointerAttr(p));

export function largePointerAttr(p: PointerSpec): Uint8Array {
  return new W().u16(p.xorBpp).u16(p.cacheIndex).u16(p.hotX).u16(p.hotY).u16(p.width).u16(p.height)
    .u32(p.and.length).u32(p.xor.length).bytes(p.xor).bytes(p.and).done();
}

// ---- client input ----

export const fpMouse = (x: number, y: number, flags = 0x0800): Uint8Array =>
  new W().u8(1 << 5).u16(flags).u16(x).u16(y).done();

export function fastPathInput(...events: Uint8Array[]): Uint8Array {
  const n = events.length;
  const body = cat(n < 16 ? new Uint8Array(0) : new Uint8Array([n]), ...events);
  const w = new W().u8(n < 16 ? n << 2 : 0);
  if (body.length + 2 < 0x80) w.u8(body.length + 2);
  else w.u8(0x80 | ((body.length + 3) >> 8)).u8(body.length + 3);
  return w.bytes(body).done();
}

export function slowPathMouse(points: [number, number, number?][]): Uint8Array {
  const w = new W().u16(points.length).u16(0);
  for (const [x, y, flags] of points) w.u32(0).u16(0x8001).u16(flags ?? 0x0800).u16(x).u16(y);
  return shareData(0x1c, w.done());
}
