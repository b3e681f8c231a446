// Deterministic test pictures (top-down RGBA) shared by codec tests and the fixture generator.

export type ImageName = "ui" | "noise" | "gradient" | "stripes" | "alpha";

export function makeImage(name: ImageName, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let r = 0, g = 0, b = 0, a = 255;
      switch (name) {
        case "ui": { // desktop, window frame, title bar and glyph-like strokes: runs and FG/BG masks
          [r, g, b] = [0x3a, 0x6e, 0xa5];
          if (x >= 2 && x < width - 2 && y >= 2 && y < height - 2) [r, g, b] = [0xf0, 0xf0, 0xf0];
          if (x >= 2 && x < width - 2 && y >= 2 && y < 7) [r, g, b] = [0x00, 0x55, 0xe5];
          if (y >= 9 && ((x * 7 + y * 3) % 11 < 3 || (x ^ y) % 5 === 0) && x % 6 !== 5) [r, g, b] = [0, 0, 0];
          if (x === 0 || y === height - 1) [r, g, b] = [255, 255, 255];
          break;
        }
        case "noise":
          [r, g, b] = [rand() & 0xff, rand() & 0xff, rand() & 0xff];
          break;
        case "gradient":
          [r, g, b] = [(x * 255 / Math.max(1, width - 1)) | 0, (y * 255 / Math.max(1, height - 1)) | 0, 128];
          break;
        case "stripes":
          [r, g, b] = x % 2 ? [200, 10, 10] : [10, 10, 200];
          break;
        case "alpha":
          [r, g, b, a] = [x * 4 & 0xff, 100, y * 4 & 0xff, (x + y) * 3 & 0xff];
          break;
      }
      out[i] = r;
      out[i + 1] = g;
      out[i + 2] = b;
      out[i + 3] = a;
    }
  }
  return out;
}

/** What a lossless codec at `bpp` can carry: channels cut to 5/6 bits and re-expanded as FreeRDP does, alpha opaque. */
export function quantize(rgba: Uint8Array, bpp: number, keepAlpha = false): Uint8Array {
  const out = rgba.slice();
  const e5 = (v: number) => ((v >> 3) << 3) + (v >> 5);
  const e6 = (v: number) => Math.min(255, ((v >> 2) << 2) + (v >> 5));
  for (let i = 0; i < out.length; i += 4) {
    if (bpp === 15 || bpp === 16) {
      out[i] = e5(out[i]);
      out[i + 1] = bpp === 16 ? e6(out[i + 1]) : e5(out[i + 1]);
      out[i + 2] = e5(out[i + 2]);
    }
    if (!keepAlpha) out[i + 3] = 255;
  }
  return out;
}

/** Convert top-down RGBA into a native raster: bottom-up when asked, rows of width*Bpp bytes. */
export function toNative(
  rgba: Uint8Array,
  width: number,
  height: number,
  bpp: number,
  bottomUp = true,
): Uint8Array {
  const bpx = bpp === 15 || bpp === 16 ? 2 : bpp / 8;
  const out = new Uint8Array(width * height * bpx);
  for (let y = 0; y < height; y++) {
    const sy = bottomUp ? height - 1 - y : y;
    for (let x = 0; x < width; x++) {
      const s = (sy * width + x) * 4, d = (y * width + x) * bpx;
      const [r, g, b, a] = [rgba[s], rgba[s + 1], rgba[s + 2], rgba[s + 3]];
      if (bpp === 16 || bpp === 15) {
        const v = bpp === 16
          ? ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
          : ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
        out[d] = v & 0xff;
        out[d + 1] = v >> 8;
      } else {
        out[d] = b;
        out[d + 1] = g;
        out[d + 2] = r;
        if (bpx === 4) out[d + 3] = a;
      }
    }
  }
  return out;
}

/** Mirror top to bottom. */
export function flipV(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(rgba.length);
  const row = width * 4;
  for (let y = 0; y < height; y++) out.set(rgba.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return out;
}
