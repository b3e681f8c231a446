// RDP 6.0 planar bitmap decoder (MS-RDPEGDI 2.2.2.5.1 RDP6_BITMAP_STREAM, algorithms 3.1.9).
//
// FormatHeader bits: CLL (0–2, colour loss level; 0 = ARGB planes, else AYCoCg), CS (3, chroma
// subsampling), RLE (4, planes run-length encoded), NA (5, no alpha plane). Planes in stream order:
// [Alpha] LumaOrRed, OrangeChromaOrGreen, GreenChromaOrBlue; each is bottom-up like every RDP bitmap.
// With CS the two chroma planes are ceil(w/2) × ceil(h/2) and each sample covers a 2×2 block.
// Returns top-down RGBA (alpha from the plane, or 255).
//
// This is the converter's hottest code (a busy session is mostly planar tiles): planes decode into
// reused scratch memory, the colour loops are specialised per format, and pixels are stored 32 bits at a
// time.

import { malformed, RenderError } from "./errors.ts";

const CS = 0x08;
const RLE = 0x10;
const NA = 0x20;

/** Planes of the bitmap being decoded, reused from call to call (decoding is synchronous). */
let scratch = new Uint8Array(0);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Where decoded pixels go: a top-down RGBA picture `width` pixels wide (4-byte aligned) with the bitmap's
 * top-left corner at (x, y); the bitmap must fit inside it.
 */
export interface PlanarTarget {
  rgba: Uint8Array;
  width: number;
  x: number;
  y: number;
}

/** Decodes into `into` when given (and returns its rgba), else into a new width × height array. */
export function decodePlanar(
  src: Uint8Array,
  width: number,
  height: number,
  into?: PlanarTarget,
): Uint8Array {
  if (src.length < 1) throw new RenderError("truncated", "planar bitmap without format header");
  const hdr = src[0];
  const cll = hdr & 0x07;
  const cs = (hdr & CS) !== 0;
  if (cs && cll === 0) throw malformed("planar chroma subsampling requires a colour loss level");
  const cw = cs ? (width + 1) >> 1 : width;
  const ch = cs ? (height + 1) >> 1 : height;
  const dims: [number, number][] = [[width, height], [cw, ch], [cw, ch]];
  if (!(hdr & NA)) dims.unshift([width, height]);

  if (hdr & RLE) {
    const need = dims.reduce((n, [w, h]) => n + w * h, 0);
    if (scratch.length < need) scratch = new Uint8Array(need);
  }
  const planes: Uint8Array[] = [];
  let pos = 1, at = 0;
  for (const [w, h] of dims) {
    if (hdr & RLE) {
      const plane = scratch.subarray(at, at + w * h);
      at += w * h;
      pos = decodeRlePlane(src, pos, w, h, plane).end;
      planes.push(plane);
    } else {
      if (pos + w * h > src.length) throw new RenderError("truncated", "planar raw plane past end of data");
      planes.push(src.subarray(pos, pos + w * h));
      pos += w * h;
    }
  }
  // Raw planes may be followed by a pad byte; trailing bytes are ignored (as FreeRDP does).

  const alpha = hdr & NA ? null : planes.shift()!;
  const [p0, p1, p2] = planes;
  const t = into ?? { rgba: new Uint8Array(width * height * 4), width, x: 0, y: 0 };
  const out = t.rgba, stride = t.width;
  if (
    out.byteOffset % 4 || t.x < 0 || t.y < 0 || t.x + width > stride ||
    (t.y + height) * stride * 4 > out.length
  ) throw new RangeError("planar bitmap does not fit its target");
  const px = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  // the destination of plane row py (rows are bottom-up) is picture row t.y + height − 1 − py
  const last = (t.y + height - 1) * stride + t.x;
  if (cll === 0) argb(px, last, stride, p0, p1, p2, width, height);
  else ycocg(px, last, stride, p0, p1, p2, width, height, cll - 1, cs ? cw : 0);
  if (alpha) {
    for (let py = 0; py < height; py++) {
      const d = (last - py * stride) * 4 + 3, row = py * width;
      for (let x = 0; x < width; x++) out[d + x * 4] = alpha[row + x];
    }
  }
  return out;
}

const pack = (r: number, g: number, b: number) =>
  LITTLE_ENDIAN ? 0xff000000 | (b << 16) | (g << 8) | r : (r << 24) | (g << 16) | (b << 8) | 0xff;

/**
 * Planes hold R, G, B (opaque; alpha, if any, is added after). Plane row py goes to pixel index
 * `last − py · stride` (rows are bottom-up).
 */
function argb(
  px: Uint32Array,
  last: number,
  stride: number,
  r: Uint8Array,
  g: Uint8Array,
  b: Uint8Array,
  width: number,
  height: number,
) {
  for (let py = 0; py < height; py++) {
    const d = last - py * stride, row = py * width;
    for (let x = 0; x < width; x++) px[d + x] = pack(r[row + x], g[row + x], b[row + x]);
  }
}

/**
 * Planes hold Y, Co, Cg (chroma of `cw` samples per row covering 2×2 pixels, or per pixel when cw is 0).
 * (Co, Cg) were shifted right by CLL; shifting left by CLL-1 also halves them, as the inverse transform
 * needs. Shift before the sign extension so the value wraps like an 8-bit one.
 */
function ycocg(
  px: Uint32Array,
  last: number,
  stride: number,
  yp: Uint8Array,
  cop: Uint8Array,
  cgp: Uint8Array,
  width: number,
  height: number,
  shift: number,
  cw: number,
) {
  for (let py = 0; py < height; py++) {
    const d = last - py * stride, row = py * width, crow = cw ? (py >> 1) * cw : row;
    for (let x = 0; x < width; x++) {
      const ci = cw ? crow + (x >> 1) : row + x;
      const co = ((cop[ci] << shift) << 24) >> 24;
      const cg = ((cgp[ci] << shift) << 24) >> 24;
      const y = yp[row + x];
      const t = y - cg;
      // Inverse transform with R and B swapped, as MS-RDPEGDI 3.1.9.1.2 requires of decoders.
      px[d + x] = pack(clamp(t - co), clamp(y + cg), clamp(t + co));
    }
  }
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * One RLE-compressed plane (RDP6_RLE_SEGMENTS, 3.1.9.2): per scan line, segments of
 * controlByte (cRawBytes << 4 | nRunLength) + raw bytes; nRunLength 1/2 mean a raw-less run of
 * 16/32 + cRawBytes. The first line holds absolute values, later lines deltas against the line
 * before, coded as 2·|d| (d ≥ 0) or 2·|d| − 1 (d < 0). A run repeats the last raw value of the line.
 * Decodes into `plane` (width·height bytes) when given.
 */
export function decodeRlePlane(
  src: Uint8Array,
  start: number,
  width: number,
  height: number,
  plane: Uint8Array = new Uint8Array(width * height),
): { plane: Uint8Array; end: number } {
  let pos = start;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let x = 0;
    let last = 0;
    while (x < width) {
      if (pos >= src.length) throw new RenderError("truncated", "planar RLE segment past end of data");
      const ctrl = src[pos++];
      let run = ctrl & 0x0f;
      let raw = ctrl >> 4;
      if (run === 1 || run === 2) { // raw-less long run: 16 or 32 plus the cRawBytes nibble
        run = run * 16 + raw;
        raw = 0;
      }
      if (run + raw === 0) throw malformed("planar RLE control byte is zero");
      if (x + raw + run > width) throw malformed("planar RLE segment runs past the scan line");
      if (pos + raw > src.length) throw new RenderError("truncated", "planar RLE raw bytes past end of data");
      let i = row + x;
      x += raw + run;
      if (y === 0) {
        for (; raw > 0; raw--) plane[i++] = last = src[pos++];
        if (run < 16) { for (const e = i + run; i < e; i++) plane[i] = last; }
        else plane.fill(last, i, i + run);
      } else {
        for (; raw > 0; raw--, i++) {
          const v = src[pos++];
          last = (v >> 1) ^ -(v & 1); // 2·d for d ≥ 0, 2·|d| − 1 for d < 0
          plane[i] = plane[i - width] + last; // stored modulo 256
        }
        if (last === 0 && run >= 16) plane.copyWithin(i, i - width, i - width + run);
        else for (const e = i + run; i < e; i++) plane[i] = plane[i - width] + last;
      }
    }
  }
  return { plane, end: pos };
}
