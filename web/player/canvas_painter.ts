// Puts the renderer's frames on a canvas: the whole picture after a resize or a new renderer, else only
// the box around the cells that changed (the frame's damage).
import { CELL, type Frame } from "../../recorder/rdp_render/mod.ts";

export class CanvasPainter {
  readonly ctx: CanvasRenderingContext2D;
  #image: ImageData | null = null;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d")!;
  }

  /** Draw a frame; `whole` after anything but the next frame of the same renderer. */
  draw(f: Frame, whole = false): void {
    if (this.canvas.width !== f.width || this.canvas.height !== f.height) {
      [this.canvas.width, this.canvas.height] = [f.width, f.height];
      this.#image = null;
    }
    if (whole || !this.#image || this.#image.data.buffer !== f.rgba.buffer) {
      this.#image = new ImageData(
        new Uint8ClampedArray(f.rgba.buffer as ArrayBuffer, f.rgba.byteOffset, f.rgba.length),
        f.width,
        f.height,
      );
      this.ctx.putImageData(this.#image, 0, 0);
      return;
    }
    const d = f.damage;
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    for (let r = 0; r < d.rows; r++) {
      for (let c = 0; c < d.cols; c++) {
        if (!d.cells[r * d.cols + c]) continue;
        [x0, y0, x1, y1] = [Math.min(x0, c), Math.min(y0, r), Math.max(x1, c), Math.max(y1, r)];
      }
    }
    if (x1 >= 0) {
      this.ctx.putImageData(
        this.#image,
        0,
        0,
        x0 * CELL,
        y0 * CELL,
        (x1 - x0 + 1) * CELL,
        (y1 - y0 + 1) * CELL,
      );
    }
  }
}
