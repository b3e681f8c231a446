// The desktop picture: top-down RGBA (bytes R, G, B, A; A always 255), plus blitting and resizing.
// Every change is marked in `damage`, so a frame can be refreshed from the parts that changed.

import { Damage } from "./damage.ts";
import { malformed } from "./errors.ts";

/** Largest desktop we accept (MS-RDPBCGR caps desktops at 32766 wide; memory is the real bound). */
export const MAX_DESKTOP_SIDE = 8192;

export class Framebuffer {
  data: Uint8Array;
  #px: Uint32Array;
  /** Cells changed since the last takeDamage() (all of them at first and after a resize). */
  damage: Damage;
  #spare: Damage;

  constructor(public width: number, public height: number) {
    checkSize(width, height);
    this.data = blank(width, height);
    this.#px = new Uint32Array(this.data.buffer);
    [this.damage, this.#spare] = [new Damage(width, height), new Damage(width, height)];
    this.damage.addAll();
  }

  /** The damage so far (valid until the next call); marking starts again from nothing. */
  takeDamage(): Damage {
    const taken = this.damage;
    this.#spare.clear();
    [this.damage, this.#spare] = [this.#spare, taken];
    return taken;
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
    this.#px = new Uint32Array(next.buffer);
    [this.damage, this.#spare] = [new Damage(width, height), new Damage(width, height)];
    this.damage.addAll();
  }

  /** Copy a w×h block from a top-down RGBA source (srcWidth pixels per row) to (dx, dy), clipped. */
  blit(src: Uint8Array, srcWidth: number, dx: number, dy: number, w: number, h: number): void {
    const x0 = Math.max(0, dx), y0 = Math.max(0, dy);
    const x1 = Math.min(this.width, dx + w), y1 = Math.min(this.height, dy + h);
    if (x1 <= x0 || y1 <= y0) return;
    if (x1 - x0 > 64 || src.byteOffset % 4) {
      for (let y = y0; y < y1; y++) {
        const s = ((y - dy) * srcWidth + (x0 - dx)) * 4;
        this.data.set(src.subarray(s, s + (x1 - x0) * 4), (y * this.width + x0) * 4);
      }
    } else { // narrow (tiles are 64 wide): a loop of 32-bit moves beats a subarray and a call per row
      const from = new Uint32Array(src.buffer, src.byteOffset, src.length >> 2), to = this.#px;
      for (let y = y0; y < y1; y++) {
        const s = (y - dy) * srcWidth + (x0 - dx) - x0, d = y * this.width;
        for (let x = x0; x < x1; x++) to[d + x] = from[s + x];
      }
    }
    this.damage.add(x0, y0, x1 - x0, y1 - y0);
  }

  /** Marks an area about to be painted directly into `data`. */
  touched(x: number, y: number, w: number, h: number): void {
    this.damage.add(x, y, w, h);
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

/** Opaque black. */
function blank(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  new DataView(data.buffer).setUint32(0, 0x000000ff); // R, G, B, A
  new Uint32Array(data.buffer).fill(new Uint32Array(data.buffer, 0, 1)[0]); // in native byte order
  return data;
}
