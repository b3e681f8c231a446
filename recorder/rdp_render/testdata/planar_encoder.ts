// Test-only RDP 6.0 planar encoder (MS-RDPEGDI 3.1.9), covering what the decoder must read:
// ARGB or AYCoCg (colour loss level 1–7), chroma subsampling, RLE or raw planes, alpha or NA.
// YCoCg uses Co = B − R, as Windows servers do (hence the R/B swap decoders apply).

export interface PlanarOptions {
  cll?: number;
  cs?: boolean;
  rle?: boolean;
  alpha?: boolean;
}

export function encodePlanar(
  rgba: Uint8Array,
  width: number,
  height: number,
  o: PlanarOptions = {},
): Uint8Array {
  const cll = o.cll ?? 0, cs = o.cs ?? false, rle = o.rle ?? true, alpha = o.alpha ?? false;
  const plane = () => new Uint8Array(width * height);
  const [a, p0, p1, p2] = [plane(), plane(), plane(), plane()];
  for (let py = 0; py < height; py++) {
    for (let x = 0; x < width; x++) {
      const s = ((height - 1 - py) * width + x) * 4, i = py * width + x; // planes are bottom-up
      const [r, g, b] = [rgba[s], rgba[s + 1], rgba[s + 2]];
      a[i] = rgba[s + 3];
      if (cll === 0) [p0[i], p1[i], p2[i]] = [r, g, b];
      else {
        p0[i] = (r + 2 * g + b) >> 2;
        p1[i] = ((b - r) >> cll) & 0xff;
        p2[i] = ((2 * g - r - b) >> (cll + 1)) & 0xff;
      }
    }
  }
  let chroma: [Uint8Array, number, number][] = [[p1, width, height], [p2, width, height]];
  if (cs) chroma = chroma.map(([p]) => subsample(p, width, height));
  const planes: [Uint8Array, number, number][] = [[p0, width, height], ...chroma];
  if (alpha) planes.unshift([a, width, height]);
  const parts: Uint8Array[] = [
    new Uint8Array([cll | (cs ? 0x08 : 0) | (rle ? 0x10 : 0) | (alpha ? 0 : 0x20)]),
  ];
  for (const [p, w, h] of planes) parts.push(rle ? rlePlane(p, w, h) : p);
  if (!rle) parts.push(new Uint8Array([0])); // optional pad byte
  return concat(parts);
}

/** Average 2×2 blocks of signed 8-bit samples. */
function subsample(p: Uint8Array, w: number, h: number): [Uint8Array, number, number] {
  const cw = (w + 1) >> 1, ch = (h + 1) >> 1;
  const out = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let sum = 0, n = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const sx = 2 * x + dx, sy = 2 * y + dy;
          if (sx < w && sy < h) [sum, n] = [sum + ((p[sy * w + sx] << 24) >> 24), n + 1];
        }
      }
      out[y * cw + x] = Math.round(sum / n) & 0xff;
    }
  }
  return [out, cw, ch];
}

export function rlePlane(p: Uint8Array, w: number, h: number): Uint8Array {
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    const vals: number[] = [];
    for (let x = 0; x < w; x++) {
      const cur = p[y * w + x];
      if (y === 0) vals.push(cur);
      else {
        const d = ((cur - p[(y - 1) * w + x] + 128) & 0xff) - 128;
        vals.push(d >= 0 ? 2 * d : -2 * d - 1);
      }
    }
    let raw: number[] = [];
    for (let i = 0; i < w;) {
      let k = 1;
      while (i + k < w && vals[i + k] === vals[i]) k++;
      if (k >= 4) {
        raw.push(vals[i]);
        segments(out, raw, k - 1);
        raw = [];
        i += k;
      } else raw.push(vals[i++]);
    }
    if (raw.length) segments(out, raw, 0);
  }
  return new Uint8Array(out);
}

function segments(out: number[], raw: number[], run: number): void {
  while (raw.length > 15) {
    out.push(15 << 4, ...raw.slice(0, 15));
    raw = raw.slice(15);
  }
  const first = run - 15 === 1 || run - 15 === 2 ? 12 : Math.min(run, 15); // leftovers of 1–2 can't be coded
  out.push((raw.length << 4) | first, ...raw);
  let left = run - first;
  while (left > 0) {
    let take = left >= 32 ? Math.min(47, left) : left >= 16 ? Math.min(31, left) : left;
    if (left - take === 1 || left - take === 2) take -= 3;
    if (take >= 32) out.push(((take - 32) << 4) | 2);
    else if (take >= 16) out.push(((take - 16) << 4) | 1);
    else out.push(take); // 3..15: a run with no raw bytes
    left -= take;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) [out.set(p, pos), pos += p.length];
  return out;
}
