// End to end: xfreerdp → RDP proxy (recording) → freerdp-shadow-cli showing a known X screen; the
// recording is converted by the queue and pool into an MP4, its last frame is extracted with ffmpeg and
// compared with a screenshot of the backend display. At 32 bpp no pixel may differ outside the pointer
// (checked on a lossless conversion, since the H.264 the console plays is lossy by design); at 16 bpp each
// channel stays within RGB565 quantisation (≤ 7 levels). The console's lossy MP4 is checked to be close as well.
import assert from "node:assert/strict";
import { decodeRgb24Frames } from "../recorder/convert/testdata/decode_mp4.ts";
import { getConversion } from "../db/conversions.ts";
import { decodeScreenResize, readRecording, RecordType } from "../recorder/rdp_file.ts";
import { createRenderer, type PointerState } from "../recorder/rdp_render/mod.ts";
import { renderRecordingToMp4 } from "../recorder/convert/render_to_mp4.ts";
import { requestConversion, startConversionService } from "../recorder/convert/mod.ts";
import { haveRdpTools, startShadow, startXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";

const W = 1024, H = 768;
const have = (cmd: string) =>
  ["/usr/bin", "/usr/local/bin", "/bin"].some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch (_e) {
      return false; // not in this directory
    }
  });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function run(cmd: string, args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** The backend's X display as RGB, without the mouse cursor. */
const screenshot = (display: string) =>
  run("ffmpeg", [
    "-v",
    "error",
    "-f",
    "x11grab",
    "-draw_mouse",
    "0",
    "-video_size",
    `${W}x${H}`,
    "-i",
    display,
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ]);

/** The last frame of a video as RGB. */
async function lastFrame(mp4: string): Promise<Uint8Array> {
  const all = await decodeRgb24Frames(mp4);
  const n = W * H * 3;
  assert.ok(all.length >= n && all.length % n === 0, `decoded ${all.length} bytes`);
  return all.subarray(all.length - n);
}

/** Where the renderer drew the pointer at the end of the recording (to leave out of the comparison). */
async function finalPointer(path: string): Promise<PointerState> {
  const r = createRenderer({ width: W, height: H });
  for await (const rec of readRecording(path)) {
    if (rec.type === RecordType.SERVER_FASTPATH) r.feedServerFastPath(rec.payload);
    else if (rec.type === RecordType.SERVER_SLOWPATH) r.feedServerSlowPath(rec.payload);
    else if (rec.type === RecordType.CLIENT_FASTPATH_INPUT) r.feedClientInput(rec.payload, "fastpath");
    else if (rec.type === RecordType.SCREEN_RESIZE) {
      const s = decodeScreenResize(rec.payload);
      r.resize(s.width, s.height);
    }
  }
  return structuredClone(r.pointer);
}

interface Diff {
  /** pixels compared (outside the pointer box) */
  compared: number;
  /** per channel: the largest difference, and pixels with any channel off by more than the tolerance */
  maxDiff: [number, number, number];
  over: number;
  first: string[];
}

function compare(a: Uint8Array, b: Uint8Array, p: PointerState, tol: [number, number, number]): Diff {
  const x0 = p.x - p.shape.hotX - 1, y0 = p.y - p.shape.hotY - 1;
  const x1 = x0 + p.shape.width + 2, y1 = y0 + p.shape.height + 2;
  const d: Diff = { compared: 0, maxDiff: [0, 0, 0], over: 0, first: [] };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (p.visible && x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      d.compared++;
      const i = (y * W + x) * 3;
      let bad = false;
      for (let k = 0; k < 3; k++) {
        const v = Math.abs(a[i + k] - b[i + k]);
        d.maxDiff[k] = Math.max(d.maxDiff[k], v);
        if (v > tol[k]) bad = true;
      }
      if (bad && ++d.over <= 5) {
        d.first.push(`${x},${y}: ${[...a.subarray(i, i + 3)]} vs ${[...b.subarray(i, i + 3)]}`);
      }
    }
  }
  return d;
}

/** A colourful known screen: ffmpeg's test pattern (bars, gradient, noise, text) as the root window. */
async function paintTestPattern(display: string, dir: string): Promise<void> {
  const png = `${dir}/pattern.png`;
  await run("ffmpeg", [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${W}x${H}:rate=1`,
    "-frames:v",
    "1",
    "-y",
    png,
  ]);
  // ImageMagick sets the root window background and exits (status 1 even when it worked)
  await new Deno.Command("display", { args: ["-window", "root", png], env: { DISPLAY: display } }).output();
}

function colours(rgb: Uint8Array): number {
  const s = new Set<number>();
  for (let i = 0; i < rgb.length; i += 3) s.add((rgb[i] << 16) | (rgb[i + 1] << 8) | rgb[i + 2]);
  return s.size;
}

for (const bpp of [32, 16] as const) {
  Deno.test({
    name: `an xfreerdp session at ${bpp} bpp converts to an MP4 whose last frame matches the backend screen`,
    ignore: !haveRdpTools() || !have("display"),
    async fn() {
      const shadow = await startShadow({ width: W, height: H });
      const env = await startRdpEnv({ backendPort: shadow.port });
      try {
        await paintTestPattern(shadow.display, env.dir);
        const client = await startXfreerdp({
          host: POOL_IP,
          port: env.port,
          args: ["/sec:tls", `/bpp:${bpp}`],
        });
        try {
          await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "activation");
          await new Promise((r) => setTimeout(r, 3000)); // the first full-screen update
        } finally {
          await client.stop();
        }
        await eventually(
          async () => (await env.db.sql`SELECT 1 FROM sessions WHERE NOT is_active`).length === 1,
          10_000,
          "the session to end",
        );
        const shot = await screenshot(shadow.display);
        assert.equal(shot.length, W * H * 3);
        assert.ok(
          colours(shot) > 1000,
          `the backend screen shows the test pattern (${colours(shot)} colours)`,
        );
        const [rec] = await env.db.sql<{ id: number; path: string }[]>`SELECT id, path FROM recordings`;
        const pointer = await finalPointer(rec.path);

        // the console's path: queued, converted by the pool
        const pool = await startConversionService(
          { config: { nodeId: "e2e", dataDir: env.dir, conversionWorkers: 1 }, sql: env.db.sql, log: quiet },
          { pollMs: 200, reportMs: 200, heartbeatMs: 1000 },
        );
        let mp4: string;
        try {
          const { job } = await requestConversion(env.db.sql, {
            recordingId: rec.id,
            rush: false,
            actor: "e2e",
            now: new Date(),
          });
          const done = await eventually(
            async () => {
              const j = await getConversion(env.db.sql, job.id);
              if (j && j.state !== "pending" && j.state !== "running" && j.state !== "done") {
                throw new Error(`conversion ${j.state}: ${j.error}`);
              }
              return j?.state === "done" && j;
            },
            60_000,
            "the conversion",
          );
          assert.deepEqual([done.video_width, done.video_height], [W, H]);
          mp4 = done.output_path!;
        } finally {
          await pool.stop();
        }
        const lossy = compare(await lastFrame(mp4), shot, pointer, [48, 48, 48]);
        assert.ok(
          lossy.over <= lossy.compared * 0.001,
          `H.264 frame far from the screen: ${JSON.stringify(lossy)}`,
        );

        // exact pixels: the same recording converted losslessly
        const exact = `${env.dir}/exact.mp4`;
        await renderRecordingToMp4({ input: rec.path, output: exact, lossless: true });
        // RGB565 keeps 5/6/5 bits; the server truncates and the renderer widens them back as FreeRDP does
        // (green: (c << 2) + (c >> 3)), so every channel may be off by up to 7, never more
        const quant: [number, number, number] = bpp === 32 ? [0, 0, 0] : [7, 7, 7];
        const d = compare(await lastFrame(exact), shot, pointer, quant);
        assert.equal(d.over, 0, `pixels differ: ${JSON.stringify(d)}`);
        assert.ok(d.compared > W * H - 100 * 100, `compared ${d.compared} pixels`);
      } finally {
        await env.close();
        await shadow.stop();
      }
    },
  });
}
