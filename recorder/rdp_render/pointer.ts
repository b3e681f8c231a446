// Pointer shapes (MS-RDPBCGR 2.2.9.1.1.4.4–5 colour / new pointer, 2.2.9.1.2.1.11 large pointer)
// and drawing them over a frame.
//
// A shape keeps RGBA colours plus, per pixel, whether it is XORed onto the screen: that is what an
// AND-mask bit of 1 means (black XOR = transparent, white XOR = inverted). Rules follow FreeRDP's
// client: masks are bottom-up except for 1 bpp, 16 bpp XOR data is RGB555, 32 bpp carries alpha.

import type { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError, unsupported } from "./errors.ts";

export const MAX_POINTER_SIDE = 384;

export interface PointerShape {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** Top-down RGBA colours (alpha = coverage for blended pixels). */
  rgba: Uint8Array;
  /** 1 where the colour is XORed onto the screen instead of blended. */
  xor: Uint8Array;
}

export interface CachedShape {
  cacheIndex: number;
  shape: PointerShape;
}

/** TS_COLORPOINTERATTRIBUTE (24 bpp unless called from a New Pointer update). */
export function readColorPointer(r: ByteReader, xorBpp = 24): CachedShape {
  const cacheIndex = r.u16("cacheIndex");
  const hotX = r.u16("hotSpot.x"), hotY = r.u16("hotSpot.y");
  const width = r.u16("width"), height = r.u16("height");
  const lengthAnd = r.u16("lengthAndMask"), lengthXor = r.u16("lengthXorMask");
  const xorMask = r.bytes(lengthXor, "xorMaskData");
  const andMask = r.bytes(lengthAnd, "andMaskData");
  return { cacheIndex, shape: buildShape(width, height, hotX, hotY, xorBpp, xorMask, andMask) };
}

/** TS_POINTERATTRIBUTE: xorBpp then a colour pointer at that depth. */
export function readNewPointer(r: ByteReader): CachedShape {
  return readColorPointer(r, r.u16("xorBpp"));
}

/** TS_LARGEPOINTERATTRIBUTE: 32-bit mask lengths, up to 384×384. */
export function readLargePointer(r: ByteReader): CachedShape {
  const xorBpp = r.u16("xorBpp");
  const cacheIndex = r.u16("cacheIndex");
  const hotX = r.u16("hotSpot.x"), hotY = r.u16("hotSpot.y");
  const width = r.u16("width"), height = r.u16("height");
  const lengthAnd = r.u32("lengthAndMask"), lengthXor = r.u32("lengthXorMask");
  const xorMask = r.bytes(lengthXor, "xorMaskData");
  const andMask = r.bytes(lengthAnd, "andMaskData");
  return { cacheIndex, shape: buildShape(width, height, hotX, hotY, xorBpp, xorMask, andMask) };
}

export function buildShape(
  width: number,
  height: number,
  hotX: number,
  hotY: number,
  xorBpp: number,
  xorMask: Uint8Array,
  andMask: Uint8Array,
): PointerShape {
  if (width > MAX_POINTER_SIDE || height > MAX_POINTER_SIDE) throw malformed(`pointer ${width}x${height}`);
  if (xorBpp !== 1 && xorBpp !== 16 && xorBpp !== 24 && xorBpp !== 32) {
    throw xorBpp === 8 || xorBpp === 4
      ? unsupported(`${xorBpp} bpp pointers need a palette`)
      : malformed(`pointer colour depth ${xorBpp}`);
  }
  const shape: PointerShape = {
    width,
    height,
    hotX: Math.min(hotX, Math.max(0, width - 1)),
    hotY: Math.min(hotY, Math.max(0, height - 1)),
    rgba: new Uint8Array(width * height * 4),
    xor: new Uint8Array(width * height),
  };
  if (width === 0 || height === 0) return shape; // an empty shape hides the pointer

  const xorStride = (((width * xorBpp + 7) >> 3) + 1) & ~1; // rows padded to 2 bytes
  const andStride = (((width + 7) >> 3) + 1) & ~1;
  if (xorMask.length < xorStride * height) throw new RenderError("truncated", "pointer XOR mask");
  const hasAnd = andMask.length > 0;
  if (hasAnd && andMask.length < andStride * height) throw new RenderError("truncated", "pointer AND mask");
  if (xorBpp === 1 && !hasAnd) throw malformed("monochrome pointer without AND mask");

  for (let y = 0; y < height; y++) {
    const row = xorBpp === 1 ? y : height - 1 - y;
    const xr = row * xorStride, ar = row * andStride;
    for (let x = 0; x < width; x++) {
      const and = hasAnd ? (andMask[ar + (x >> 3)] >> (7 - (x & 7))) & 1 : 0;
      let r: number, g: number, b: number, a = 255;
      if (xorBpp === 1) {
        r = g = b = (xorMask[xr + (x >> 3)] >> (7 - (x & 7))) & 1 ? 255 : 0;
      } else if (xorBpp === 16) {
        const v = xorMask[xr + 2 * x] | (xorMask[xr + 2 * x + 1] << 8);
        [r, g, b] = [((v >> 10) & 0x1f) * 8.25 | 0, ((v >> 5) & 0x1f) * 8.25 | 0, (v & 0x1f) * 8.25 | 0];
      } else {
        const s = xr + x * (xorBpp >> 3);
        [b, g, r] = [xorMask[s], xorMask[s + 1], xorMask[s + 2]];
        if (xorBpp === 32) a = xorMask[s + 3];
      }
      const i = y * width + x;
      shape.rgba.set([r, g, b, a], i * 4);
      if (and && a === 255) shape.xor[i] = 1;
    }
  }
  return shape;
}

/** Draw the pointer with its hotspot at (x, y) onto a top-down RGBA frame (alpha untouched). */
export function drawPointer(
  frame: Uint8Array,
  fw: number,
  fh: number,
  p: PointerShape,
  x: number,
  y: number,
): void {
  const left = x - p.hotX, top = y - p.hotY;
  for (let sy = Math.max(0, -top); sy < p.height && top + sy < fh; sy++) {
    for (let sx = Math.max(0, -left); sx < p.width && left + sx < fw; sx++) {
      const i = sy * p.width + sx, s = i * 4, d = ((top + sy) * fw + left + sx) * 4;
      if (p.xor[i]) {
        frame[d] ^= p.rgba[s];
        frame[d + 1] ^= p.rgba[s + 1];
        frame[d + 2] ^= p.rgba[s + 2];
        continue;
      }
      const a = p.rgba[s + 3];
      if (a === 0) continue;
      for (let c = 0; c < 3; c++) {
        frame[d + c] = (p.rgba[s + c] * a + frame[d + c] * (255 - a) + 127) / 255 | 0;
      }
    }
  }
}

/** The classic arrow used for the system default pointer (B black, W white, space transparent). */
const ARROW = [
  "B",
  "BB",
  "BWB",
  "BWWB",
  "BWWWB",
  "BWWWWB",
  "BWWWWWB",
  "BWWWWWWB",
  "BWWWWWWWB",
  "BWWWWWWWWB",
  "BWWWWWWWWWB",
  "BWWWWWWBBBBB",
  "BWWWBWWB",
  "BWWBBWWB",
  "BWB BWWB",
  "BB   BWWB",
  "B    BWWB",
  "      BWWB",
  "       BB",
];

export function defaultPointer(): PointerShape {
  const width = 12, height = ARROW.length;
  const rgba = new Uint8Array(width * height * 4);
  ARROW.forEach((line, y) => {
    [...line].forEach((ch, x) => {
      if (ch !== " ") rgba.set(ch === "W" ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * width + x) * 4);
    });
  });
  return { width, height, hotX: 0, hotY: 0, rgba, xor: new Uint8Array(width * height) };
}
