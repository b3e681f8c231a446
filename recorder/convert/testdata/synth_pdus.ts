// Fast builders for the server/client PDUs a synthetic recording needs (test and bench support):
// bitmap updates as 64×64 planar tiles split into fast-path PDUs (fragmented when large), mouse and
// keyboard fast-path input. Byte layouts: MS-RDPBCGR 2.2.9.1.2 and 2.2.8.1.2, MS-RDPEGDI 2.2.2.5.1.
import { encodePlanar } from "../../rdp_render/testdata/planar_encoder.ts";

const TILE = 64;
/** Fast-path PDUs stay below the 15-bit length; updates above this are fragmented. */
const MAX_UPDATE_DATA = 16_000;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** TS_BITMAP_DATA for a 32 bpp planar-compressed rectangle (no TS_CD_HEADER). */
function bitmapData(r: Rect, planar: Uint8Array): Uint8Array {
  const out = new Uint8Array(18 + planar.length);
  const dv = new DataView(out.buffer);
  const fields = [r.x, r.y, r.x + r.w - 1, r.y + r.h - 1, r.w, r.h, 32, 0x0401, planar.length];
  fields.forEach((v, i) => dv.setUint16(i * 2, v, true));
  out.set(planar, 18);
  return out;
}

/** Copies a rectangle of a top-down RGBA screen. */
export function crop(screen: Uint8Array, screenW: number, r: Rect): Uint8Array {
  const out = new Uint8Array(r.w * r.h * 4);
  for (let y = 0; y < r.h; y++) {
    const s = ((r.y + y) * screenW + r.x) * 4;
    out.set(screen.subarray(s, s + r.w * 4), y * r.w * 4);
  }
  return out;
}

/** Splits a rectangle into ≤ 64×64 tiles, as servers send large bitmap updates. */
export function tiles(r: Rect): Rect[] {
  const out: Rect[] = [];
  for (let y = r.y; y < r.y + r.h; y += TILE) {
    for (let x = r.x; x < r.x + r.w; x += TILE) {
      out.push({ x, y, w: Math.min(TILE, r.x + r.w - x), h: Math.min(TILE, r.y + r.h - y) });
    }
  }
  return out;
}

function fastPathPdu(updateHeader: number, data: Uint8Array): Uint8Array {
  const len = 3 + 3 + data.length;
  const out = new Uint8Array(len);
  out[0] = 0; // fpOutputHeader: fast-path action, no encryption
  out[1] = 0x80 | (len >> 8);
  out[2] = len & 0xff;
  out[3] = updateHeader;
  out[4] = data.length & 0xff;
  out[5] = data.length >> 8;
  out.set(data, 6);
  return out;
}

/** One fast-path PDU per bitmap update; an update too big for one PDU goes as FIRST/NEXT/LAST fragments. */
function updatePdus(rects: Uint8Array[]): Uint8Array[] {
  const total = 4 + rects.reduce((n, r) => n + r.length, 0);
  const data = new Uint8Array(total);
  const dv = new DataView(data.buffer);
  dv.setUint16(0, 1, true); // UPDATETYPE_BITMAP
  dv.setUint16(2, rects.length, true);
  let pos = 4;
  for (const r of rects) [data.set(r, pos), pos += r.length];
  if (total <= MAX_UPDATE_DATA) return [fastPathPdu(0x01, data)];
  const out: Uint8Array[] = [];
  for (let off = 0; off < total; off += MAX_UPDATE_DATA) {
    const end = Math.min(total, off + MAX_UPDATE_DATA);
    const frag = off === 0 ? 2 : end === total ? 1 : 3; // FIRST, LAST, NEXT
    out.push(fastPathPdu(0x01 | (frag << 4), data.subarray(off, end)));
  }
  return out;
}

/** The fast-path PDUs that repaint `area` of the screen with its current pixels. */
export function repaint(screen: Uint8Array, screenW: number, area: Rect): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [], bytes = 0;
  for (const t of tiles(area)) {
    const b = bitmapData(t, encodePlanar(crop(screen, screenW, t), t.w, t.h));
    if (bytes + b.length > MAX_UPDATE_DATA && batch.length) {
      out.push(...updatePdus(batch));
      [batch, bytes] = [[], 0];
    }
    batch.push(b);
    bytes += b.length;
  }
  if (batch.length) out.push(...updatePdus(batch));
  return out;
}

/** TS_FP_INPUT_PDU with one absolute mouse move. */
export function mouseInput(x: number, y: number): Uint8Array {
  return new Uint8Array([1 << 2, 9, 1 << 5, 0x00, 0x08, x & 0xff, x >> 8, y & 0xff, y >> 8]);
}

/** TS_FP_INPUT_PDU with a key press and release (scancode events). */
export function keyInput(scancode: number): Uint8Array {
  return new Uint8Array([2 << 2, 6, 0 << 5, scancode, (0 << 5) | 1, scancode]);
}
