import assert from "node:assert/strict";
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
    assert.equal(c.update(img), 12);
    const ref = await swscale(img, w, h);
    assert.equal(c.data.length, ref.length);
    const y = planeDiff(c.data, ref, 0, w * h);
    assert.ok(y.max <= 1, `${name}: luma off by ${y.max}`);
    // chroma: a 2×2 average here, ffmpeg's subsampling filter reaches a little further
    const uv = planeDiff(c.data, ref, w * h, ref.length);
    assert.ok(uv.mean <= (name === "noise" ? 12 : 2), `${name}: chroma mean ${uv.mean}`);
  }
});

Deno.test("I420Converter converts only changed blocks and ends up as a fresh conversion would", () => {
  const [w, h] = [100, 70]; // edge blocks are partial
  const a = makeImage("gradient", w, h);
  const b = a.slice();
  for (let y = 20; y < 24; y++) for (let x = 40; x < 43; x++) b.set([255, 0, 0, 255], (y * w + x) * 4);
  b.set([0, 0, 255, 255], ((h - 1) * w + w - 1) * 4); // the bottom-right corner block
  const c = new I420Converter(w, h);
  assert.equal(c.update(a), 7 * 5);
  assert.equal(c.update(a), 0);
  assert.equal(c.update(b), 2); // the block at (32,16) and the corner block at (96,64)
  const fresh = new I420Converter(w, h);
  fresh.update(b);
  assert.deepEqual(c.data, fresh.data);
  assert.throws(() => new I420Converter(99, 70), RangeError);
  assert.throws(() => c.update(new Uint8Array(10)), RangeError);
});

Deno.test("renderRecordingToMp4() with pixelFormat i420 gives the same video as the RGBA feed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = `${dir}/s.rdprec`;
    await writeSyntheticSession(input, { width: 320, height: 240, seconds: 8, seed: 3 });
    const decode = async (pixelFormat: "rgba" | "i420") => {
      const output = `${dir}/${pixelFormat}.mp4`;
      const r = await renderRecordingToMp4({ input, output, pixelFormat });
      const raw = await new Deno.Command("ffmpeg", {
        args: [
          "-v",
          "error",
          "-i",
          output,
          "-fps_mode",
          "passthrough",
          "-f",
          "rawvideo",
          "-pix_fmt",
          "rgb24",
          "pipe:1",
        ],
        stdout: "piped",
      }).output();
      return { r, raw: raw.stdout };
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
