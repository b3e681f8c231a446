// Interleaved RLE bitmap decoder (MS-RDPBCGR 2.2.9.1.1.3.1.2.4 RLE_BITMAP_STREAM, algorithm 3.1.9)
// for 15, 16 and 24 bpp. 8 bpp needs a palette and is rejected.
//
// Output: the native pixels (2 or 3 bytes each, little-endian) in stream order, i.e. bottom-up,
// rowDelta = width * bytesPerPixel. Every run is checked against the source and destination
// bounds first, so malformed input ends in a RenderError and each order consumes ≥ 1 source byte
// (no endless loop).

import { malformed, RenderError, unsupported } from "./errors.ts";

const REGULAR_BG_RUN = 0x0;
const REGULAR_FG_RUN = 0x1;
const REGULAR_FGBG_IMAGE = 0x2;
const REGULAR_COLOR_RUN = 0x3;
const REGULAR_COLOR_IMAGE = 0x4;
const LITE_SET_FG_FG_RUN = 0xc;
const LITE_SET_FG_FGBG_IMAGE = 0xd;
const LITE_DITHERED_RUN = 0xe;
const MEGA_MEGA_BG_RUN = 0xf0;
const MEGA_MEGA_FG_RUN = 0xf1;
const MEGA_MEGA_FGBG_IMAGE = 0xf2;
const MEGA_MEGA_COLOR_RUN = 0xf3;
const MEGA_MEGA_COLOR_IMAGE = 0xf4;
const MEGA_MEGA_SET_FG_RUN = 0xf6;
const MEGA_MEGA_SET_FGBG_IMAGE = 0xf7;
const MEGA_MEGA_DITHERED_RUN = 0xf8;
const SPECIAL_FGBG_1 = 0xf9;
const SPECIAL_FGBG_2 = 0xfa;
const SPECIAL_WHITE = 0xfd;
const SPECIAL_BLACK = 0xfe;

/** Regular orders: 3-bit code; MEGA/SPECIAL: whole byte 0xF0–0xFF; lite: 4-bit code. */
function codeOf(hdr: number): number {
  if ((hdr & 0xc0) !== 0xc0) return hdr >> 5;
  if ((hdr & 0xf0) === 0xf0) return hdr;
  return hdr >> 4;
}

export function decodeInterleaved(src: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  if (bpp === 8) throw unsupported("8 bpp interleaved RLE needs a palette");
  if (bpp !== 15 && bpp !== 16 && bpp !== 24) throw malformed(`interleaved RLE at ${bpp} bpp`);
  const bpx = bpp === 24 ? 3 : 2;
  const rowDelta = width * bpx;
  const dst = new Uint8Array(rowDelta * height);
  const white = bpp === 24 ? 0xffffff : bpp === 16 ? 0xffff : 0x7fff;
  let s = 0; // source offset
  let d = 0; // destination byte offset
  let fgPel = white;
  let insertFgPel = false;
  let firstLine = true;

  const srcPixel = (): number => {
    if (s + bpx > src.length) throw new RenderError("truncated", "RLE pixel value past end of data");
    const v = bpx === 2 ? src[s] | (src[s + 1] << 8) : src[s] | (src[s + 1] << 8) | (src[s + 2] << 16);
    s += bpx;
    return v;
  };
  const srcByte = (): number => {
    if (s >= src.length) throw new RenderError("truncated", "RLE order past end of data");
    return src[s++];
  };
  const room = (pixels: number): void => {
    if (d + pixels * bpx > dst.length) throw malformed("RLE run writes past the end of the bitmap");
  };
  const above = (): number => {
    const i = d - rowDelta;
    return bpx === 2 ? dst[i] | (dst[i + 1] << 8) : dst[i] | (dst[i + 1] << 8) | (dst[i + 2] << 16);
  };
  const put = (v: number): void => {
    dst[d] = v & 0xff;
    dst[d + 1] = (v >> 8) & 0xff;
    if (bpx === 3) dst[d + 2] = (v >> 16) & 0xff;
    d += bpx;
  };
  const fgBg = (mask: number, count: number): void => {
    room(count);
    for (let i = 0; i < count; i++) {
      const bit = (mask >> i) & 1;
      if (firstLine) put(bit ? fgPel : 0);
      else put(bit ? above() ^ fgPel : above());
    }
  };
  /** Reads the order header (and any extended length) and returns the run length. */
  const runLength = (code: number): number => {
    const hdr = srcByte();
    switch (code) {
      case REGULAR_FGBG_IMAGE: {
        const n = hdr & 0x1f;
        return n === 0 ? srcByte() + 1 : n * 8;
      }
      case LITE_SET_FG_FGBG_IMAGE: {
        const n = hdr & 0x0f;
        return n === 0 ? srcByte() + 1 : n * 8;
      }
      case REGULAR_BG_RUN:
      case REGULAR_FG_RUN:
      case REGULAR_COLOR_RUN:
      case REGULAR_COLOR_IMAGE: {
        const n = hdr & 0x1f;
        return n === 0 ? srcByte() + 32 : n;
      }
      case LITE_SET_FG_FG_RUN:
      case LITE_DITHERED_RUN: {
        const n = hdr & 0x0f;
        return n === 0 ? srcByte() + 16 : n;
      }
      default: { // MEGA_MEGA_*: explicit u16 length
        const lo = srcByte();
        return lo | (srcByte() << 8);
      }
    }
  };

  while (s < src.length) {
    if (firstLine && d >= rowDelta) {
      firstLine = false;
      insertFgPel = false;
    }
    const code = codeOf(src[s]);

    if (code === REGULAR_BG_RUN || code === MEGA_MEGA_BG_RUN) {
      let n = runLength(code);
      room(n);
      if (insertFgPel && n > 0) { // a BG run right after a BG run starts with one FG pixel
        put(firstLine ? fgPel : above() ^ fgPel);
        n--;
      }
      for (; n > 0; n--) put(firstLine ? 0 : above());
      insertFgPel = true;
      continue;
    }
    insertFgPel = false;

    switch (code) {
      case REGULAR_FG_RUN:
      case MEGA_MEGA_FG_RUN:
      case LITE_SET_FG_FG_RUN:
      case MEGA_MEGA_SET_FG_RUN: {
        const n = runLength(code);
        if (code === LITE_SET_FG_FG_RUN || code === MEGA_MEGA_SET_FG_RUN) fgPel = srcPixel();
        room(n);
        for (let i = 0; i < n; i++) put(firstLine ? fgPel : above() ^ fgPel);
        break;
      }
      case LITE_DITHERED_RUN:
      case MEGA_MEGA_DITHERED_RUN: {
        const n = runLength(code);
        const a = srcPixel(), b = srcPixel();
        room(n * 2);
        for (let i = 0; i < n; i++) {
          put(a);
          put(b);
        }
        break;
      }
      case REGULAR_COLOR_RUN:
      case MEGA_MEGA_COLOR_RUN: {
        const n = runLength(code);
        const v = srcPixel();
        room(n);
        for (let i = 0; i < n; i++) put(v);
        break;
      }
      case REGULAR_FGBG_IMAGE:
      case MEGA_MEGA_FGBG_IMAGE:
      case LITE_SET_FG_FGBG_IMAGE:
      case MEGA_MEGA_SET_FGBG_IMAGE: {
        let n = runLength(code);
        if (code === LITE_SET_FG_FGBG_IMAGE || code === MEGA_MEGA_SET_FGBG_IMAGE) fgPel = srcPixel();
        if (s + Math.ceil(n / 8) > src.length) throw new RenderError("truncated", "RLE FG/BG bitmask bytes");
        room(n);
        for (; n > 0; n -= 8) fgBg(src[s++], Math.min(n, 8));
        break;
      }
      case REGULAR_COLOR_IMAGE:
      case MEGA_MEGA_COLOR_IMAGE: {
        const n = runLength(code);
        if (s + n * bpx > src.length) throw new RenderError("truncated", "RLE colour image bytes");
        room(n);
        for (let i = 0; i < n; i++) put(srcPixel());
        break;
      }
      case SPECIAL_FGBG_1:
      case SPECIAL_FGBG_2:
        s++;
        fgBg(code === SPECIAL_FGBG_1 ? 0x03 : 0x05, 8);
        break;
      case SPECIAL_WHITE:
      case SPECIAL_BLACK:
        s++;
        room(1);
        put(code === SPECIAL_WHITE ? white : 0);
        break;
      default:
        throw malformed(`invalid RLE order header 0x${src[s].toString(16)}`);
    }
  }
  return dst;
}
