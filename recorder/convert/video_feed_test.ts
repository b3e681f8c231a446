import assert from "node:assert/strict";
import { Damage, type Frame } from "../rdp_render/mod.ts";
import { I420Converter } from "./i420.ts";
import { VideoFeed } from "./video_feed.ts";

/** A sink that holds every write for a while, so several frames are in flight at once. */
function slowSink() {
  const bodies: Uint8Array[] = [];
  let writing = 0, most = 0;
  const sink = async (_head: Uint8Array, body?: Uint8Array) => {
    if (!body) return;
    most = Math.max(most, ++writing);
    await new Promise((r) => setTimeout(r, 2));
    bodies.push(body.slice()); // what went down the pipe, read when the write completes
    writing--;
  };
  return { sink, bodies, most: () => most };
}

Deno.test("VideoFeed keeps frames in flight and writes each as a fresh I420 conversion would", async () => {
  const [w, h] = [48, 34];
  const rgba = new Uint8Array(w * h * 4).fill(255);
  const expected: Uint8Array[] = [];
  const { sink, bodies, most } = slowSink();
  const feed = new VideoFeed(w, h, sink, "i420");
  await feed.start();
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0, (seed >>> 8) % n);
  for (let i = 0; i < 40; i++) {
    const damage = new Damage(w, h);
    if (i === 0) damage.addAll();
    for (let k = rand(3); k >= 0; k--) {
      const [x, y] = [rand(w), rand(h)];
      const [rw, rh] = [1 + rand(10), 1 + rand(10)];
      damage.add(x, y, rw, rh);
      for (let yy = y; yy < Math.min(h, y + rh); yy++) {
        for (let xx = x; xx < Math.min(w, x + rw); xx++) {
          rgba.set([rand(256), rand(256), rand(256)], (yy * w + xx) * 4);
        }
      }
    }
    const frame: Frame = { width: w, height: h, rgba, damage };
    const fresh = new I420Converter(w, h);
    fresh.update(rgba);
    expected.push(fresh.data);
    await feed.push(i * 100, frame);
  }
  await feed.finish(4000, { width: w, height: h, rgba, damage: new Damage(w, h) });
  assert.equal(feed.frames, 41); // and the last picture again at the end time
  assert.ok(most() >= 2, `at most ${most()} write(s) in flight`);
  assert.equal(bodies.length, 41);
  for (let i = 0; i < 40; i++) assert.deepEqual(bodies[i], expected[i], `frame ${i}`);
  assert.deepEqual(bodies[40], expected[39]);
});

Deno.test("VideoFeed pads a smaller desktop phase with black and reports a failed write", async () => {
  const { sink, bodies } = slowSink();
  const feed = new VideoFeed(4, 4, sink, "rgba");
  await feed.start();
  const small = new Damage(2, 2);
  small.addAll();
  await feed.push(0, { width: 2, height: 2, rgba: new Uint8Array(16).fill(9), damage: small });
  await feed.finish(50, { width: 2, height: 2, rgba: new Uint8Array(16).fill(9), damage: small });
  assert.deepEqual([...bodies[0].subarray(0, 8)], [9, 9, 9, 9, 9, 9, 9, 9]);
  assert.deepEqual([...bodies[0].subarray(8, 16)], [0, 0, 0, 255, 0, 0, 0, 255]);

  const failing = new VideoFeed(
    4,
    4,
    (_h, body) => body ? Promise.reject(new Error("pipe closed")) : Promise.resolve(),
  );
  const full = new Damage(4, 4);
  const frame = { width: 4, height: 4, rgba: new Uint8Array(64), damage: full };
  await failing.push(0, frame);
  await failing.push(100, frame); // the first frame goes out now, and fails in the background
  await assert.rejects(failing.finish(200, frame), /pipe closed/);
});
