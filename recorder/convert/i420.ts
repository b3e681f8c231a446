// RGBA frames → I420 (planar YUV 4:2:0, BT.601 limited range: what ffmpeg's swscale produces by
// default), converting only the 16×16 cells the renderer reports as damaged.
//
// Why: handing ffmpeg RGBA makes it convert every whole 1080p frame (≈ 9 ms of CPU each) and pipe
// 8 MiB; a remote desktop mostly changes a few cells per frame, so converting just those here and
// piping 3 MiB of I420 leaves ffmpeg only the encoding.

import type { Damage } from "../rdp_render/mod.ts";

export class I420Converter {
  /** Y plane, then U, then V: width·height·3/2 bytes, valid until the next update(). */
  readonly data: Uint8Array;
  #first = true;

  constructor(readonly width: number, readonly height: number) {
    if (width % 2 || height % 2 || width < 2 || height < 2) {
      throw new RangeError(`I420 needs even sizes: ${width}×${height}`);
    }
    this.data = new Uint8Array(width * height * 3 / 2);
  }

  /**
   * Converts a top-down RGBA frame of width × height where `damage` (a grid of this size) says it
   * changed since the previous update(); everywhere on the first call or without a damage grid.
   */
  update(rgba: Uint8Array, damage?: Damage): void {
    const { width: W, height: H } = this;
    if (rgba.length !== W * H * 4) throw new RangeError(`frame of ${rgba.length} bytes for ${W}×${H}`);
    if (this.#first || !damage || damage.width !== W || damage.height !== H) {
      this.#convert(rgba, 0, 0, W, H);
    } else damage.runs((x, y, w, h) => this.#convert(rgba, x, y, w, h));
    this.#first = false;
  }

  /** Copies the parts of `data` in `where` (a damage grid of this size; null: all) into another picture. */
  copyTo(dst: Uint8Array, where: Damage | null): void {
    const { width: W, height: H, data } = this;
    if (dst.length !== data.length) throw new RangeError(`I420 picture of ${dst.length} bytes`);
    // past a third of the cells, one straight copy beats many row copies
    if (!where || where.width !== W || where.height !== H || where.count() * 3 > where.cells.length) {
      return dst.set(data);
    }
    const uOff = W * H, vOff = uOff + (W >> 1) * (H >> 1), cw = W >> 1;
    where.runs((x, y, w, h) => {
      for (let row = y; row < y + h; row++) {
        dst.set(data.subarray(row * W + x, row * W + x + w), row * W + x);
      }
      for (let row = y >> 1; row < (y + h) >> 1; row++) {
        const o = row * cw + (x >> 1), e = o + (w >> 1);
        dst.set(data.subarray(uOff + o, uOff + e), uOff + o);
        dst.set(data.subarray(vOff + o, vOff + e), vOff + o);
      }
    });
  }

  /** Converts an area with even position and size. */
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
