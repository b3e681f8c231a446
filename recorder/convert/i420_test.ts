import assert from "node:assert/strict";
import { decodeRgb24Frames } from "./testdata/decode_mp4.ts";
import { Damage } from "../rdp_render/mod.ts";
import { makeImage } from "../rdp_render/testdata/images.ts";
import { I420Converter } from "./i420.ts";
import { renderRecordingToMp4 } from "./render_to_mp4.ts";
import { writeSyntheticSession } from "./testdata/synth_session.ts";

async function swscale(rgba: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  const child = new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgba",
      "-s",
      `${w}x${h}`,
      "-i",
      "pipe:0",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "yuv420p",
      "pipe:1",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w2 = child.stdin.getWriter();
  await w2.write(rgba);
  await w2.close();
  const out = await child.output();
  assert.ok(out.success);
  return out.stdout;
}

function planeDiff(a: Uint8Array, b: Uint8Array, from: number, to: number): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = from; i < to; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / (to - from) };
}

Deno.test("I420Converter matches ffmpeg's RGBA → yuv420p (BT.601 limited range)", async () => {
  const [w, h] = [64, 48];
  for (const name of ["ui", "gradient", "noise", "stripes"] as const) {
    const img = makeImage(name, w, h);
    const c = new I420Converter(w, h);
    c.update(img);
    const ref = await swscale(img, w, h);
    assert.equal(c.data.length, ref.length);
    const y = planeDiff(c.data, ref, 0, w * h);
    assert.ok(y.max <= 1, `${name}: luma off by ${y.max}`);
    // chroma: a 2×2 average here, ffmpeg's subsampling filter reaches a little further
    const uv = planeDiff(c.data, ref, w * h, ref.length);
    assert.ok(uv.mean <= (name === "noise" ? 12 : 2), `${name}: chroma mean ${uv.mean}`);
  }
});

Deno.test("I420Converter converts only damaged cells, and copyTo() copies only them", () => {
  const [w, h] = [100, 70]; // edge cells are partial
  const a = makeImage("gradient", w, h);
  const b = a.slice();
  for (let y = 20; y < 24; y++) for (let x = 40; x < 43; x++) b.set([255, 0, 0, 255], (y * w + x) * 4);
  b.set([0, 0, 255, 255], ((h - 1) * w + w - 1) * 4); // the bottom-right corner cell
  const damage = new Damage(w, h);
  damage.add(40, 20, 3, 4);
  damage.add(w - 1, h - 1, 1, 1);
  const c = new I420Converter(w, h);
  c.update(a, damage); // the first update converts everything
  const before = c.data.slice();
  c.update(b, damage);
  const fresh = new I420Converter(w, h);
  fresh.update(b);
  assert.deepEqual(c.data, fresh.data);

  // a change outside the damage is not looked at
  const other = makeImage("noise", w, h);
  const corner = new Damage(w, h);
  corner.add(w - 1, h - 1, 1, 1);
  c.update(other, corner);
  const noisy = new I420Converter(w, h);
  noisy.update(other);
  let differs = 0, same = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x >= 96 && y >= 64) assert.equal(c.data[y * w + x], noisy.data[y * w + x]);
      else {[differs, same] = c.data[y * w + x] === noisy.data[y * w + x]
          ? [differs, same + 1]
          : [differs + 1, same];}
    }
  }
  assert.ok(differs > same, "outside the damaged cell the old picture stays");

  // copyTo() brings an older copy up to date where told, and copies everything without a grid
  const copy = before.slice();
  c.update(b); // whole picture
  c.copyTo(copy, damage);
  assert.deepEqual(copy, fresh.data);
  const all = new Uint8Array(c.data.length);
  c.copyTo(all, null);
  assert.deepEqual(all, c.data);
  assert.throws(() => new I420Converter(99, 70), RangeError);
  assert.throws(() => c.update(new Uint8Array(10)), RangeError);
  assert.throws(() => c.copyTo(new Uint8Array(10), null), RangeError);
});

Deno.test("renderRecordingToMp4() with pixelFormat i420 gives the same video as the RGBA feed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = `${dir}/s.rdprec`;
    await writeSyntheticSession(input, { width: 320, height: 240, seconds: 8, seed: 3 });
    const decode = async (pixelFormat: "rgba" | "i420") => {
      const output = `${dir}/${pixelFormat}.mp4`;
      const r = await renderRecordingToMp4({ input, output, pixelFormat });
      return { r, raw: await decodeRgb24Frames(output) };
    };
    const a = await decode("rgba"), b = await decode("i420");
    assert.deepEqual(b.r, a.r);
    assert.equal(b.raw.length, a.raw.length);
    let sum = 0;
    for (let i = 0; i < a.raw.length; i++) sum += Math.abs(a.raw[i] - b.raw[i]);
    assert.ok(sum / a.raw.length < 1.5, `mean difference ${sum / a.raw.length}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
