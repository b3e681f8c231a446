// Native RDP pixel formats → RGBA (R, G, B, A bytes; A = 255).
// 15 bpp is RGB555 and 16 bpp RGB565 (little-endian u16), 24 bpp is B,G,R and 32 bpp B,G,R,X.
// 5/6-bit channels expand exactly as FreeRDP's client does (c·8 + c/4, min(255, c·4 + c/8)), so our
// frames match what xfreerdp shows pixel for pixel.

import { RenderError } from "./errors.ts";

export const bytesPerPixel = (bpp: number): number => {
  switch (bpp) {
    case 15:
    case 16:
      return 2;
    case 24:
      return 3;
    case 32:
      return 4;
    default:
      throw new RenderError("unsupported_update", `unsupported colour depth ${bpp} bpp`);
  }
};

const expand5 = (x: number) => (x << 3) + (x >> 2);
const expand6 = (x: number) => Math.min(255, (x << 2) + (x >> 3));

/** Write the RGB of a native pixel value (as read little-endian) into dst at i; alpha 255. */
export function putPixel(dst: Uint8Array, i: number, bpp: number, v: number): void {
  if (bpp === 16) {
    dst[i] = expand5((v >> 11) & 0x1f);
    dst[i + 1] = expand6((v >> 5) & 0x3f);
    dst[i + 2] = expand5(v & 0x1f);
  } else if (bpp === 15) {
    dst[i] = expand5((v >> 10) & 0x1f);
    dst[i + 1] = expand5((v >> 5) & 0x1f);
    dst[i + 2] = expand5(v & 0x1f);
  } else {
    dst[i] = (v >> 16) & 0xff;
    dst[i + 1] = (v >> 8) & 0xff;
    dst[i + 2] = v & 0xff;
  }
  dst[i + 3] = 255;
}

/**
 * Convert a native raster (rows of `stride` bytes) into a new top-down RGBA buffer.
 * `bottomUp`: the first row in src is the bottom row of the image (RDP bitmap convention).
 */
export function nativeToRgba(
  src: Uint8Array,
  stride: number,
  bpp: number,
  width: number,
  height: number,
  bottomUp: boolean,
): Uint8Array {
  const bpx = bytesPerPixel(bpp);
  if (stride < width * bpx || src.length < stride * (height - 1) + width * bpx) {
    throw new RenderError("truncated", `bitmap data too short for ${width}x${height} at ${bpp} bpp`);
  }
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    let s = (bottomUp ? height - 1 - y : y) * stride;
    let d = y * width * 4;
    for (let x = 0; x < width; x++, s += bpx, d += 4) {
      if (bpx === 2) putPixel(out, d, bpp, src[s] | (src[s + 1] << 8));
      else {
        out[d] = src[s + 2];
        out[d + 1] = src[s + 1];
        out[d + 2] = src[s];
        out[d + 3] = 255;
      }
    }
  }
  return out;
}
