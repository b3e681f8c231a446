// Bitmap updates (MS-RDPBCGR 2.2.9.1.1.3.1.2 TS_UPDATE_BITMAP_DATA / TS_BITMAP_DATA): decode each
// rectangle to RGBA and blit it. Used by both the slow-path and the fast-path bitmap update.

import type { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError, unsupported } from "./errors.ts";
import type { Framebuffer } from "./framebuffer.ts";
import { decodeInterleaved } from "./interleaved.ts";
import { bytesPerPixel, nativeToRgba } from "./pixels.ts";
import { decodePlanar } from "./planar.ts";

const BITMAP_COMPRESSION = 0x0001;
const NO_BITMAP_COMPRESSION_HDR = 0x0400;
/**
 * Servers tile bitmap updates (64×64 is typical); we allow up to 4 Mi pixels per rectangle so a
 * tiny malicious PDU cannot make the decoders allocate hundreds of megabytes.
 */
const MAX_BITMAP_PIXELS = 4 << 20;

export interface DecodedBitmap {
  destLeft: number;
  destTop: number;
  destRight: number;
  destBottom: number;
  width: number;
  height: number;
  bpp: number;
  /** Top-down RGBA, width × height. */
  rgba: Uint8Array;
}

/** Decoded pixels of the rectangle being applied, reused (each is blitted before the next is decoded). */
let tile = new Uint8Array(0);
const tileFor = (pixels: number) =>
  (tile.length < pixels * 4 ? (tile = new Uint8Array(pixels * 4)) : tile)
    .subarray(0, pixels * 4);

/** Reads numberRectangles and the TS_BITMAP_DATA array (the reader sits after updateType). */
export function applyBitmapUpdate(r: ByteReader, fb: Framebuffer): number {
  const count = r.u16("numberRectangles");
  for (let i = 0; i < count; i++) blitBitmap(fb, decodeBitmapData(r, tileFor));
  return count;
}

/** The source rectangle is clipped to destRight − destLeft + 1 (the width field is padded). */
export function blitBitmap(fb: Framebuffer, b: DecodedBitmap): void {
  const w = Math.min(b.destRight - b.destLeft + 1, b.width);
  const h = Math.min(b.destBottom - b.destTop + 1, b.height);
  fb.blit(b.rgba, b.width, b.destLeft, b.destTop, w, h);
}

/** `buffer(pixels)`, if given, provides memory for planar bitmaps (else they get a new array). */
export function decodeBitmapData(r: ByteReader, buffer?: (pixels: number) => Uint8Array): DecodedBitmap {
  const destLeft = r.u16("destLeft"), destTop = r.u16("destTop");
  const destRight = r.u16("destRight"), destBottom = r.u16("destBottom");
  const width = r.u16("width"), height = r.u16("height");
  const bpp = r.u16("bitsPerPixel"), flags = r.u16("flags");
  const data = r.bytes(r.u16("bitmapLength"), "bitmapDataStream");
  if (destRight < destLeft || destBottom < destTop) {
    throw malformed(`bitmap destination ${destLeft},${destTop}-${destRight},${destBottom} is inverted`);
  }
  if (width === 0 || height === 0 || width * height > MAX_BITMAP_PIXELS) {
    throw malformed(`bitmap size ${width}x${height}`);
  }
  if (bpp === 8) throw unsupported("8 bpp bitmaps need a palette");
  bytesPerPixel(bpp); // rejects depths other than 15/16/24/32

  let rgba: Uint8Array;
  if (flags & BITMAP_COMPRESSION) {
    let body = data;
    if (!(flags & NO_BITMAP_COMPRESSION_HDR)) { // TS_CD_HEADER: only cbCompMainBodySize matters
      if (data.length < 8) throw new RenderError("truncated", "bitmap compression header");
      const mainBodySize = data[2] | (data[3] << 8);
      if (8 + mainBodySize > data.length) throw new RenderError("truncated", "compressed bitmap body");
      body = data.subarray(8, 8 + mainBodySize);
    }
    if (bpp === 32) rgba = decodePlanar(body, width, height, buffer?.(width * height));
    else {
      const raw = decodeInterleaved(body, width, height, bpp);
      rgba = nativeToRgba(raw, width * bytesPerPixel(bpp), bpp, width, height, true);
    }
  } else {
    // Rows are bottom-up; the spec pads them to 4 bytes, but servers size `width` so that no
    // padding is needed and FreeRDP reads unpadded rows: accept both.
    const tight = width * bytesPerPixel(bpp);
    const padded = (tight + 3) & ~3;
    const stride = data.length >= padded * height ? padded : tight;
    rgba = nativeToRgba(data, stride, bpp, width, height, true);
  }
  return { destLeft, destTop, destRight, destBottom, width, height, bpp, rgba };
}
