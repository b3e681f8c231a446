// End to end, real peers: xfreerdp → RDP proxy (recording) → freerdp-shadow-cli on an Xvnc display whose
// screen is resized mid-session with RandR (xrandr -s, as a user changing the resolution). freerdp-shadow
// notices the root window's new size and re-activates its client (Deactivate All, then a Demand Active with
// the new desktop size): the proxy relays it and the session goes on; the live view in Chromium follows the
// new size, and a viewer joining after it starts at the new size; the recording holds both sizes; the
// renderer's last frame equals a screenshot of the backend display at its new size (0 differing pixels
// outside the pointer, 32 bpp), and so does a lossless MP4's last frame (padded to the larger size); the
// in-browser player ends on that frame and a seek back before the resize shows the old size, pixel for pixel
// the renderer's.
import assert from "node:assert/strict";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { decodeScreenResize, RecordType } from "../recorder/rdp_file.ts";
import { createRenderer, type PointerState } from "../recorder/rdp_render/mod.ts";
import { applyRecord } from "../recorder/rdp_replay/apply.ts";
import { RecordStream } from "../recorder/rdp_replay/record_stream.ts";
import { renderRecordingToMp4 } from "../recorder/convert/render_to_mp4.ts";
import { decodeRgb24Frames } from "../recorder/convert/testdata/decode_mp4.ts";
import { fixture } from "../web/testing.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import {
  freePort,
  haveRdpTools,
  resizeDisplay,
  startShadow,
  startXfreerdp,
  within,
} from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { audits, closedSession } from "./helpers/rdp_shadow.ts";

const BEFORE = { width: 1024, height: 768 }, AFTER = { width: 800, height: 600 };
type Size = typeof BEFORE;

const have = (cmd: string) => {
  try {
    return Deno.statSync(`/usr/bin/${cmd}`).isFile;
  } catch (_e) {
    return false; // not installed
  }
};
const haveAll = () => haveRdpTools() && ["Xvnc", "xrandr", "display", "ffmpeg", "chromium"].every(have);

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Uint8Array> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Frame `n` of ffmpeg's test pattern at `size` as the root window. */
async function paint(display: string, dir: string, n: number, size: Size): Promise<void> {
  const png = `${dir}/pattern-${n}.png`;
  await run(
    "ffmpeg",
    ["-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${size.width}x${size.height}:rate=1`]
      .concat(["-ss", String(n * 7), "-frames:v", "1", "-y", png]),
  );
  // ImageMagick sets the root window background and exits (status 1 even when it worked)
  await new Deno.Command("display", { args: ["-window", "root", png], env: { DISPLAY: display } }).output();
}

/** The backend's X display as RGBA (alpha 255), without the mouse cursor. */
async function screenshot(display: string, size: Size): Promise<Uint8Array> {
  const rgb = await run(
    "ffmpeg",
    ["-v", "error", "-f", "x11grab", "-draw_mouse", "0", "-video_size"]
      .concat([`${size.width}x${size.height}`, "-i", display, "-frames:v", "1", "-f", "rawvideo"])
      .concat(["-pix_fmt", "rgb24", "pipe:1"]),
  );
  assert.equal(rgb.length, size.width * size.height * 3);
  const rgba = new Uint8Array(size.width * size.height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) rgba.set([rgb[i], rgb[i + 1], rgb[i + 2], 255], j);
  return rgba;
}

interface Rendered {
  size: Size;
  rgba: Uint8Array;
  pointer: PointerState;
}

/** The renderer's frame after every record up to `t` ms (Infinity: the whole recording). */
async function serverFrame(path: string, t: number): Promise<Rendered> {
  const s = new RecordStream();
  s.push(await Deno.readFile(path));
  const r = createRenderer(BEFORE);
  for (let rec; (rec = s.next());) {
    if (rec.offsetMillis > t) break;
    applyRecord(r, rec.type, rec.payload);
  }
  const f = r.frame();
  return {
    size: { width: f.width, height: f.height },
    rgba: f.rgba.slice(),
    pointer: structuredClone(r.pointer),
  };
}

function colours(rgba: Uint8Array): number {
  const s = new Set<number>();
  for (let i = 0; i < rgba.length; i += 4) s.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return s.size;
}

/** Pixels that differ outside the pointer's box (an auditor's comparison is about the desktop). */
function differing(
  a: Uint8Array,
  b: Uint8Array,
  size: Size,
  p: PointerState,
): { n: number; first: string[] } {
  assert.equal(a.length, b.length, "same size");
  const x0 = p.x - p.shape.hotX - 1, y0 = p.y - p.shape.hotY - 1;
  const x1 = x0 + p.shape.width + 2, y1 = y0 + p.shape.height + 2;
  const out = { n: 0, first: [] as string[] };
  for (let y = 0; y < size.height; y++) {
    for (let x = 0; x < size.width; x++) {
      if (p.visible && x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      const i = (y * size.width + x) * 4;
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) {
        if (++out.n <= 5) {
          out.first.push(`${x},${y}: ${[...a.subarray(i, i + 4)]} vs ${[...b.subarray(i, i + 4)]}`);
        }
      }
    }
  }
  return out;
}

Deno.test({
  name:
    "a desktop resized mid-session (freerdp-shadow on Xvnc, xrandr): relayed, live view and player follow",
  ignore: !haveAll(),
  async fn() {
    const shadow = await startShadow({ ...BEFORE, xserver: "xvnc" });
    const env = await startRdpEnv({ backendPort: shadow.port });
    let server: Deno.HttpServer | null = null;
    const b = await openBrowser("rdp_resize");
    let client: Awaited<ReturnType<typeof startXfreerdp>> | null = null;
    try {
      await paint(shadow.display, env.dir, 0, BEFORE);
      client = await startXfreerdp({ host: POOL_IP, port: env.port, args: ["/sec:tls", "/bpp:32"] });
      await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "activation");
      await new Promise((r) => setTimeout(r, 3000)); // the first full-screen update is recorded
      const [session] = await env.db.sql<{ session_id: string }[]>`SELECT session_id FROM sessions`;
      const [rec] = await env.db.sql<{ id: number; path: string }[]>`SELECT id, path FROM recordings`;

      const fx = await fixture({
        recordingsDir: `${env.dir}/recordings`,
        rdpIndexDir: `${env.dir}/rdp_index`,
      }, env.db);
      const port = await freePort();
      server = Deno.serve(
        { hostname: "127.0.0.1", port, onListen() {} },
        (req, info) => fx.app.fetch(req, { remoteAddr: info.remoteAddr }),
      );
      await createConsoleUser(env.db.sql, {
        name: "audrey",
        role: "auditor",
        passwordHash: await hashPassword("pw-audrey-1"),
      }, { actor: "test" });
      const base = `http://127.0.0.1:${port}`;
      const page = b.page;
      await consoleLogin(page, base, "audrey", "pw-audrey-1");

      // the live view at the first size
      const view = `#rdp-live-${rec.id}`;
      await page.goto(`${base}/sessions/${session.session_id}`);
      await page.waitForSelector(`${view}[data-state="live"]`);
      const sample = () =>
        page.evaluate((sel) => {
          const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          const seen = new Set<number>();
          for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          return { colours: seen.size, size: `${c.width}x${c.height}` };
        }, view);
      const first = await eventually(
        async () => {
          const s = await sample();
          return s.colours > 1000 && s;
        },
        5000,
        "the live view shows the test pattern",
      );
      assert.equal(first.size, `${BEFORE.width}x${BEFORE.height}`);

      // the backend's screen shrinks: freerdp-shadow re-activates the client with the new size
      const t0 = performance.now();
      await resizeDisplay(shadow.display, AFTER.width, AFTER.height);
      await paint(shadow.display, env.dir, 1, AFTER);
      const resized = await eventually(
        async () => {
          const s = await sample();
          return s.size === `${AFTER.width}x${AFTER.height}` && s.colours > 1000 && s;
        },
        10_000,
        "the live view at the new size",
      );
      console.log(`live view: the new size showed after ${(performance.now() - t0).toFixed(0)} ms`);
      assert.ok(resized);
      await b.shot("live-resized");
      // a viewer joining after the resize: the current screen (the catch-up keyframe) at the new size
      await page.reload();
      await page.waitForSelector(`${view}[data-state="live"]`);
      const joined = await eventually(
        async () => {
          const s = await sample();
          return s.colours > 1000 && s;
        },
        5000,
        "the late joiner's screen",
      );
      assert.equal(joined.size, `${AFTER.width}x${AFTER.height}`);
      await new Promise((r) => setTimeout(r, 2000)); // the new screen is recorded in full
      const shot = await screenshot(shadow.display, AFTER);
      assert.equal(await within(client.process.child.status, 0, null), null, "xfreerdp is still connected");
      await client.stop();
      client = null;

      const s = await closedSession(env);
      assert.equal(s.termination_reason, "normal");
      await page.waitForSelector(`${view}[data-state="ended"]`, { timeout: 10_000 });

      // the recording: both sizes, from the server's Demand Active PDUs
      const stream = new RecordStream();
      stream.push(await Deno.readFile(rec.path));
      const sizes: { t: number; size: string }[] = [];
      for (let r; (r = stream.next());) {
        if (r.type !== RecordType.SCREEN_RESIZE) continue;
        const z = decodeScreenResize(r.payload);
        sizes.push({ t: r.offsetMillis, size: `${z.width}x${z.height}` });
      }
      assert.deepEqual(sizes.map((z) => z.size), ["1024x768", "800x600"], JSON.stringify(sizes));
      const tResize = sizes[1].t;

      // the renderer's last frame is the backend's screen at its new size
      assert.ok(colours(shot) > 1000, `the backend shows the test pattern (${colours(shot)} colours)`);
      const end = await serverFrame(rec.path, Infinity);
      assert.deepEqual(end.size, AFTER);
      const d0 = differing(end.rgba, shot, AFTER, end.pointer);
      assert.equal(d0.n, 0, `pixels differing from the backend's screenshot: ${d0.first.join("; ")}`);

      // MP4 export: one video size (the largest desktop), the smaller phase padded; its last frame holds the
      // backend's screen, exactly (a lossless conversion of the same recording)
      const mp4 = `${env.dir}/exact.mp4`;
      const conv = await renderRecordingToMp4({ input: rec.path, output: mp4, lossless: true });
      assert.deepEqual([conv.width, conv.height], [BEFORE.width, BEFORE.height]);
      const frames = await decodeRgb24Frames(mp4);
      const n = BEFORE.width * BEFORE.height * 3;
      const last = frames.subarray(frames.length - n);
      const crop = new Uint8Array(AFTER.width * AFTER.height * 4);
      const padding = new Set<number>();
      for (let y = 0; y < BEFORE.height; y++) {
        for (let x = 0; x < BEFORE.width; x++) {
          const i = (y * BEFORE.width + x) * 3;
          if (x < AFTER.width && y < AFTER.height) {
            crop.set([last[i], last[i + 1], last[i + 2], 255], (y * AFTER.width + x) * 4);
          } else padding.add((last[i] << 16) | (last[i + 1] << 8) | last[i + 2]);
        }
      }
      const d1 = differing(crop, shot, AFTER, end.pointer);
      assert.equal(d1.n, 0, `pixels differing in the MP4's last frame: ${d1.first.join("; ")}`);
      assert.equal(padding.size, 1, "the area outside the smaller desktop is plain padding");

      // the player (after the session): to the end, then back before the resize
      const player = `#rdp-player-${rec.id}`;
      const canvas = async (): Promise<{ size: string; rgba: Uint8Array }> => {
        const got = await page.evaluate((sel) => {
          const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let s = "";
          for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
          return { size: `${c.width}x${c.height}`, b64: btoa(s) };
        }, player);
        return { size: got.size, rgba: Uint8Array.from(atob(got.b64), (ch) => ch.charCodeAt(0)) };
      };
      const same = async (want: Rendered, what: string) => {
        const got = await canvas();
        assert.equal(got.size, `${want.size.width}x${want.size.height}`, `the canvas size ${what}`);
        const d = differing(got.rgba, want.rgba, want.size, want.pointer);
        assert.equal(d.n, 0, `pixels differing from the renderer ${what}: ${d.first.join("; ")}`);
      };
      await page.goto(`${base}/sessions/${session.session_id}`);
      await page.waitForSelector(`${player}[data-state="paused"]`, { timeout: 60_000 });
      await page.selectOption(`${player} [data-act=speed]`, "16");
      await page.click(`${player} [data-act=play]`);
      await page.waitForSelector(`${player}[data-state="ended"]`, { timeout: 60_000 });
      await same(end, "at the end");
      await b.shot("replay-ended");

      const before = Math.max(0, tResize - 500);
      await page.evaluate(([sel, t]) => {
        const input = document.querySelector(`${sel} [data-act=seek]`) as HTMLInputElement;
        input.value = String(t);
        input.dispatchEvent(new Event("change"));
      }, [player, before] as const);
      await page.waitForSelector(`${player}[data-state="paused"][data-t="${before}"]`, { timeout: 20_000 });
      const atBefore = await serverFrame(rec.path, before);
      assert.deepEqual(atBefore.size, BEFORE);
      await same(atBefore, `${before} ms in, before the resize`);
      await b.shot("replay-before-resize");

      const reads = (await audits(env.db.sql, "recording.download")).filter((a) =>
        a.actor === "console:audrey"
      );
      assert.ok(reads.some((a) => a.details.part === "live" && a.target === session.session_id));
      assert.ok(reads.some((a) => a.details.via === "view" && a.target === session.session_id));
      assert.deepEqual(b.errors, []);
      await fx.close();
    } finally {
      await client?.stop();
      await b.close();
      await server?.shutdown();
      await env.close();
      await shadow.stop();
    }
  },
});
