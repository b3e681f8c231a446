// The desktop picture: top-down RGBA (bytes R, G, B, A; A always 255), plus blitting and resizing.

import { malformed } from "./errors.ts";

/** Largest desktop we accept (MS-RDPBCGR caps desktops at 32766 wide; memory is the real bound). */
export const MAX_DESKTOP_SIDE = 8192;

export class Framebuffer {
  data: Uint8Array;

  constructor(public width: number, public height: number) {
    checkSize(width, height);
    this.data = blank(width, height);
  }

  /** Change the size, keeping the overlapping top-left content. */
  resize(width: number, height: number): void {
    checkSize(width, height);
    if (width === this.width && height === this.height) return;
    const next = blank(width, height);
    const w = Math.min(width, this.width) * 4;
    for (let y = 0; y < Math.min(height, this.height); y++) {
      next.set(this.data.subarray(y * this.width * 4, y * this.width * 4 + w), y * width * 4);
    }
    [this.data, this.width, this.height] = [next, width, height];
  }

  /** Copy a w×h block from a top-down RGBA source (srcWidth pixels per row) to (dx, dy), clipped. */
  blit(src: Uint8Array, srcWidth: number, dx: number, dy: number, w: number, h: number): void {
    const x0 = Math.max(0, dx), y0 = Math.max(0, dy);
    const x1 = Math.min(this.width, dx + w), y1 = Math.min(this.height, dy + h);
    if (x1 <= x0 || y1 <= y0) return;
    for (let y = y0; y < y1; y++) {
      const s = ((y - dy) * srcWidth + (x0 - dx)) * 4;
      this.data.set(src.subarray(s, s + (x1 - x0) * 4), (y * this.width + x0) * 4);
    }
  }
}

function checkSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height)) || width < 1 || height < 1) {
    throw malformed(`invalid desktop size ${width}x${height}`);
  }
  if (width > MAX_DESKTOP_SIDE || height > MAX_DESKTOP_SIDE) {
    throw malformed(`desktop ${width}x${height} too large`);
  }
}

function blank(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return data;
}
