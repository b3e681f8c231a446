// RDP 6.0 planar bitmap decoder (MS-RDPEGDI 2.2.2.5.1 RDP6_BITMAP_STREAM, algorithms 3.1.9).
//
// FormatHeader bits: CLL (0–2, colour loss level; 0 = ARGB planes, else AYCoCg), CS (3, chroma
// subsampling), RLE (4, planes run-length encoded), NA (5, no alpha plane). Planes in stream order:
// [Alpha] LumaOrRed, OrangeChromaOrGreen, GreenChromaOrBlue; each is bottom-up like every RDP bitmap.
// With CS the two chroma planes are ceil(w/2) × ceil(h/2) and each sample covers a 2×2 block.
// Returns top-down RGBA (alpha from the plane, or 255).

import { malformed, RenderError } from "./errors.ts";

const CS = 0x08;
const RLE = 0x10;
const NA = 0x20;

export function decodePlanar(src: Uint8Array, width: number, height: number): Uint8Array {
  if (src.length < 1) throw new RenderError("truncated", "planar bitmap without format header");
  const hdr = src[0];
  const cll = hdr & 0x07;
  const cs = (hdr & CS) !== 0;
  if (cs && cll === 0) throw malformed("planar chroma subsampling requires a colour loss level");
  const cw = cs ? (width + 1) >> 1 : width;
  const ch = cs ? (height + 1) >> 1 : height;
  const dims: [number, number][] = [[width, height], [cw, ch], [cw, ch]];
  if (!(hdr & NA)) dims.unshift([width, height]);

  const planes: Uint8Array[] = [];
  let pos = 1;
  for (const [w, h] of dims) {
    if (hdr & RLE) {
      const r = decodeRlePlane(src, pos, w, h);
      planes.push(r.plane);
      pos = r.end;
    } else {
      if (pos + w * h > src.length) throw new RenderError("truncated", "planar raw plane past end of data");
      planes.push(src.subarray(pos, pos + w * h));
      pos += w * h;
    }
  }
  // Raw planes may be followed by a pad byte; trailing bytes are ignored (as FreeRDP does).

  const alpha = hdr & NA ? null : planes.shift()!;
  const [p0, p1, p2] = planes;
  const out = new Uint8Array(width * height * 4);
  const shift = cll - 1;
  for (let py = 0; py < height; py++) {
    let d = (height - 1 - py) * width * 4; // plane rows are bottom-up
    const row = py * width;
    const crow = (cs ? py >> 1 : py) * cw;
    for (let x = 0; x < width; x++, d += 4) {
      const i = row + x;
      if (cll === 0) {
        out[d] = p0[i];
        out[d + 1] = p1[i];
        out[d + 2] = p2[i];
      } else {
        const ci = crow + (cs ? x >> 1 : x);
        // (Co, Cg) were shifted right by CLL; shifting left by CLL-1 also halves them, as the inverse
        // transform needs. Shift before the sign extension so the value wraps like an 8-bit one.
        const co = ((p1[ci] << shift) << 24) >> 24;
        const cg = ((p2[ci] << shift) << 24) >> 24;
        const y = p0[i];
        const t = y - cg;
        // Inverse transform with R and B swapped, as MS-RDPEGDI 3.1.9.1.2 requires of decoders.
        out[d] = clamp(t - co);
        out[d + 1] = clamp(y + cg);
        out[d + 2] = clamp(t + co);
      }
      out[d + 3] = alpha ? alpha[i] : 255;
    }
  }
  return out;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * One RLE-compressed plane (RDP6_RLE_SEGMENTS, 3.1.9.2): per scan line, segments of
 * controlByte (cRawBytes << 4 | nRunLength) + raw bytes; nRunLength 1/2 mean a raw-less run of
 * 16/32 + cRawBytes. The first line holds absolute values, later lines deltas against the line
 * before, coded as 2·|d| (d ≥ 0) or 2·|d| − 1 (d < 0). A run repeats the last raw value of the line.
 */
export function decodeRlePlane(
  src: Uint8Array,
  start: number,
  width: number,
  height: number,
): { plane: Uint8Array; end: number } {
  const plane = new Uint8Array(width * height);
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
      if (y === 0) {
        for (; raw > 0; raw--) plane[row + x++] = last = src[pos++];
        for (; run > 0; run--) plane[row + x++] = last;
      } else {
        for (; raw > 0; raw--, x++) {
          const v = src[pos++];
          last = v & 1 ? -((v >> 1) + 1) : v >> 1;
          plane[row + x] = (plane[row - width + x] + last) & 0xff;
        }
        for (; run > 0; run--, x++) plane[row + x] = (plane[row - width + x] + last) & 0xff;
      }
    }
  }
  return { plane, end: pos };
}
