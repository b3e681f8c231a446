// RGBA frames → I420 (planar YUV 4:2:0, BT.601 limited range: what ffmpeg's swscale produces by
// default), updating only the 16×16 blocks that changed since the previous frame.
//
// Why: handing ffmpeg RGBA makes it convert every whole 1080p frame (≈ 9 ms of CPU each) and pipe
// 8 MiB; a remote desktop mostly changes a few blocks per frame, so converting just those here and
// piping 3 MiB of I420 leaves ffmpeg only the encoding.

import { Buffer } from "node:buffer";

const BLOCK = 16;

export class I420Converter {
  /** Y plane, then U, then V: width·height·3/2 bytes, valid until the next update(). */
  readonly data: Uint8Array;
  readonly #prev: Buffer;
  #first = true;
  #dirty: Uint8Array | null = null;

  constructor(readonly width: number, readonly height: number) {
    if (width % 2 || height % 2 || width < 2 || height < 2) {
      throw new RangeError(`I420 needs even sizes: ${width}×${height}`);
    }
    this.data = new Uint8Array(width * height * 3 / 2);
    this.#prev = Buffer.alloc(width * height * 4);
  }

  /** Converts a top-down RGBA frame of width × height; returns how many blocks changed. */
  update(rgba: Uint8Array): number {
    const { width: W, height: H } = this;
    if (rgba.length !== W * H * 4) throw new RangeError(`frame of ${rgba.length} bytes for ${W}×${H}`);
    // comparisons use Buffer.compare (native memcmp): several times faster than a JS loop
    const cur = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
    const prev = this.#prev;
    const cols = Math.ceil(W / BLOCK), stride = W * 4;
    const dirty = this.#dirty ??= new Uint8Array(cols);
    let changed = 0;
    for (let by = 0; by < H; by += BLOCK) {
      const bh = Math.min(BLOCK, H - by), band = by * stride;
      if (!this.#first && cur.compare(prev, band, band + bh * stride, band, band + bh * stride) === 0) {
        continue;
      }
      dirty.fill(this.#first ? 1 : 0);
      for (let y = by; !this.#first && y < by + bh; y++) {
        const row = y * stride;
        if (cur.compare(prev, row, row + stride, row, row + stride) === 0) continue;
        for (let b = 0; b < cols; b++) {
          const o = row + b * BLOCK * 4, e = Math.min(row + stride, o + BLOCK * 4);
          if (!dirty[b] && cur.compare(prev, o, e, o, e) !== 0) dirty[b] = 1;
        }
      }
      for (let b = 0; b < cols; b++) {
        if (!dirty[b]) continue;
        const bx = b * BLOCK, bw = Math.min(BLOCK, W - bx);
        this.#convert(rgba, bx, by, bw, bh);
        for (let y = by; y < by + bh; y++) {
          const o = (y * W + bx) * 4;
          prev.set(rgba.subarray(o, o + bw * 4), o);
        }
        changed++;
      }
    }
    this.#first = false;
    return changed;
  }

  #convert(rgba: Uint8Array, bx: number, by: number, bw: number, bh: number): void {
    const W = this.width, d = this.data;
    const uOff = W * this.height, vOff = uOff + (W >> 1) * (this.height >> 1), cw = W >> 1;
    for (let y = by; y < by + bh; y += 2) {
      for (let x = bx; x < bx + bw; x += 2) {
        const i00 = (y * W + x) * 4, i01 = i00 + 4, i10 = i00 + W * 4, i11 = i10 + 4;
        const r0 = rgba[i00], g0 = rgba[i00 + 1], b0 = rgba[i00 + 2];
        const r1 = rgba[i01], g1 = rgba[i01 + 1], b1 = rgba[i01 + 2];
        const r2 = rgba[i10], g2 = rgba[i10 + 1], b2 = rgba[i10 + 2];
        const r3 = rgba[i11], g3 = rgba[i11 + 1], b3 = rgba[i11 + 2];
        d[y * W + x] = ((66 * r0 + 129 * g0 + 25 * b0 + 128) >> 8) + 16;
        d[y * W + x + 1] = ((66 * r1 + 129 * g1 + 25 * b1 + 128) >> 8) + 16;
        d[(y + 1) * W + x] = ((66 * r2 + 129 * g2 + 25 * b2 + 128) >> 8) + 16;
        d[(y + 1) * W + x + 1] = ((66 * r3 + 129 * g3 + 25 * b3 + 128) >> 8) + 16;
        // chroma of the 2×2 block's average colour (sums are 4× the average: shift 2 more)
        const r = r0 + r1 + r2 + r3, g = g0 + g1 + g2 + g3, b = b0 + b1 + b2 + b3;
        const c = (y >> 1) * cw + (x >> 1);
        d[uOff + c] = ((-38 * r - 74 * g + 112 * b + 512) >> 10) + 128;
        d[vOff + c] = ((112 * r - 94 * g - 18 * b + 512) >> 10) + 128;
      }
    }
  }
}
