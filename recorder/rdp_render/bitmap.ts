// Bitmap updates (MS-RDPBCGR 2.2.9.1.1.3.1.2 TS_UPDATE_BITMAP_DATA / TS_BITMAP_DATA): decode each
// rectangle to RGBA and blit it. Used by both the slow-path and the fast-path bitmap update.

import type { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError, unsupported } from "./errors.ts";
import type { Framebuffer } from "./framebuffer.ts";
import { decodeInterleaved } from "./interleaved.ts";
import { bytesPerPixel, nativeToRgba } from "./pixels.ts";
import { decodePlanar, type PlanarTarget } from "./planar.ts";

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
  /** Top-down RGBA, width × height (unless drawn). */
  rgba: Uint8Array;
  /** Already decoded into its place (then `rgba` is that picture). */
  drawn: boolean;
}

/** Decoded pixels of a rectangle that cannot be drawn in place, reused (blitted before the next is decoded). */
let tile = new Uint8Array(0);

/**
 * Reads numberRectangles and the TS_BITMAP_DATA array (the reader sits after updateType). Planar
 * rectangles that fit whole are decoded straight into the framebuffer.
 */
export function applyBitmapUpdate(r: ByteReader, fb: Framebuffer): number {
  const count = r.u16("numberRectangles");
  const place = (b: Placement): Place => {
    const w = b.destRight - b.destLeft + 1, h = b.destBottom - b.destTop + 1;
    if (w === b.width && h === b.height && b.destRight < fb.width && b.destBottom < fb.height) {
      fb.touched(b.destLeft, b.destTop, w, h);
      return { target: { rgba: fb.data, width: fb.width, x: b.destLeft, y: b.destTop }, inPlace: true };
    }
    const bytes = b.width * b.height * 4;
    if (tile.length < bytes) tile = new Uint8Array(bytes);
    return { target: { rgba: tile.subarray(0, bytes), width: b.width, x: 0, y: 0 }, inPlace: false };
  };
  for (let i = 0; i < count; i++) {
    const b = decodeBitmapData(r, place);
    if (!b.drawn) blitBitmap(fb, b);
  }
  return count;
}

/** The source rectangle is clipped to destRight − destLeft + 1 (the width field is padded). */
export function blitBitmap(fb: Framebuffer, b: DecodedBitmap): void {
  const w = Math.min(b.destRight - b.destLeft + 1, b.width);
  const h = Math.min(b.destBottom - b.destTop + 1, b.height);
  fb.blit(b.rgba, b.width, b.destLeft, b.destTop, w, h);
}

export type Placement = Omit<DecodedBitmap, "rgba" | "drawn">;
/** Where to decode a planar bitmap; `inPlace`: the target is its destination (nothing left to blit). */
export type Place = { target: PlanarTarget; inPlace: boolean };

/** `place`, if given, says where planar bitmaps are decoded; else each gets a new array. */
export function decodeBitmapData(r: ByteReader, place?: (b: Placement) => Place): DecodedBitmap {
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
    if (bpp === 32) {
      const p = place?.({ destLeft, destTop, destRight, destBottom, width, height, bpp });
      rgba = decodePlanar(body, width, height, p?.target);
      if (p?.inPlace) {
        return { destLeft, destTop, destRight, destBottom, width, height, bpp, rgba, drawn: true };
      }
    } else {
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
  return { destLeft, destTop, destRight, destBottom, width, height, bpp, rgba, drawn: false };
}
