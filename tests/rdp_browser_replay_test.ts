// End to end: xfreerdp → RDP proxy (recording) → freerdp-shadow-cli whose screen changes every few seconds;
// an auditor opens the session in Chromium and the in-browser player (web/static/rdp_player.js) replays the
// recording without any conversion. The canvas after playing to the end equals the renderer's last frame
// computed here on the server (0 differing pixels outside the pointer, 32 bpp); a seek to the middle (from a
// keyframe of the index) equals the renderer played up to that time; every read is audited; a truncated
// recording plays up to the cut and says so.
import assert from "node:assert/strict";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { createRenderer, type PointerState } from "../recorder/rdp_render/mod.ts";
import { applyRecord } from "../recorder/rdp_replay/apply.ts";
import { keyframeFor } from "../recorder/rdp_replay/index_builder.ts";
import { RecordStream } from "../recorder/rdp_replay/record_stream.ts";
import { fixture } from "../web/testing.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { freePort, haveRdpTools, startShadow, startXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { audits, closedSession } from "./helpers/rdp_shadow.ts";

const W = 1024, H = 768;
const have = (cmd: string) => ["/usr/bin", "/bin"].some((d) => Deno.statSync(`${d}/${cmd}`).isFile);
const haveAll = () => {
  try {
    return haveRdpTools() && have("display") && have("ffmpeg") && have("chromium");
  } catch (_e) {
    return false; // a program is missing
  }
};

/** Show frame `n` of ffmpeg's test pattern (bars, gradient, noise, a counter) as the root window. */
async function paint(display: string, dir: string, n: number): Promise<void> {
  const png = `${dir}/pattern-${n}.png`;
  const out = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${W}x${H}:rate=1`, "-ss", String(n * 7)]
      .concat(["-frames:v", "1", "-y", png]),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  // ImageMagick sets the root window background and exits (status 1 even when it worked)
  await new Deno.Command("display", { args: ["-window", "root", png], env: { DISPLAY: display } }).output();
}

/** The renderer's frame after every record up to `t` ms (the whole recording: Infinity), and its pointer. */
async function serverFrame(path: string, t: number): Promise<{ rgba: Uint8Array; pointer: PointerState }> {
  const bytes = await Deno.readFile(path);
  const s = new RecordStream();
  s.push(bytes);
  const r = createRenderer({ width: W, height: H });
  for (let rec; (rec = s.next());) {
    if (rec.offsetMillis > t) break;
    applyRecord(r, rec.type, rec.payload);
  }
  const f = r.frame();
  assert.deepEqual([f.width, f.height], [W, H]);
  return { rgba: f.rgba.slice(), pointer: structuredClone(r.pointer) };
}

/** Pixels that differ, outside the pointer's box (the pointer is composited by the same renderer, but an
 * auditor's comparison is about the desktop). */
function differing(a: Uint8Array, b: Uint8Array, p: PointerState): { n: number; first: string[] } {
  const x0 = p.x - p.shape.hotX - 1, y0 = p.y - p.shape.hotY - 1;
  const x1 = x0 + p.shape.width + 2, y1 = y0 + p.shape.height + 2;
  const out = { n: 0, first: [] as string[] };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (p.visible && x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      const i = (y * W + x) * 4;
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) {
        if (++out.n <= 5) {
          out.first.push(`${x},${y}: ${[...a.subarray(i, i + 4)]} vs ${[...b.subarray(i, i + 4)]}`);
        }
      }
    }
  }
  return out;
}

function colours(rgba: Uint8Array): number {
  const s = new Set<number>();
  for (let i = 0; i < rgba.length; i += 4) s.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return s.size;
}

Deno.test({
  name: "Chromium replays a recorded xfreerdp session pixel for pixel, seeks by keyframe, and stops at a cut",
  ignore: !haveAll(),
  async fn() {
    const shadow = await startShadow({ width: W, height: H });
    const env = await startRdpEnv({ backendPort: shadow.port });
    let server: Deno.HttpServer | null = null;
    const b = await openBrowser("rdp_browser_replay");
    try {
      await paint(shadow.display, env.dir, 0);
      const client = await startXfreerdp({ host: POOL_IP, port: env.port, args: ["/sec:tls", "/bpp:32"] });
      try {
        await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "activation");
        // a busy screen for a while: a new picture every 2 s (keyframes every 5 s of it)
        for (let n = 1; n <= 6; n++) {
          await new Promise((r) => setTimeout(r, 2000));
          await paint(shadow.display, env.dir, n);
        }
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        await client.stop();
      }
      const session = await closedSession(env);
      const [rec] = await env.db.sql<{ id: number; path: string }[]>`SELECT id, path FROM recordings`;
      // the proxy built the seek index when the recording closed (in a worker), before anyone asked
      const prebuilt = `${env.dir}/rdp_index/recording-${rec.id}.json`;
      const built = await eventually(
        async () => JSON.parse(await Deno.readTextFile(prebuilt).catch(() => "null")),
        30_000,
        "the prebuilt seek index",
      );

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

      const player = `#rdp-player-${rec.id}`;
      const state = (s: string) => page.waitForSelector(`${player}[data-state="${s}"]`, { timeout: 60_000 });
      const canvas = async (): Promise<Uint8Array> => {
        const b64 = await page.evaluate((sel) => {
          const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let s = "";
          for (let i = 0; i < d.length; i += 0x8000) {
            s += String.fromCharCode(...d.subarray(i, i + 0x8000));
          }
          return `${c.width}x${c.height}:${btoa(s)}`;
        }, player);
        const [size, data] = b64.split(":");
        assert.equal(size, `${W}x${H}`);
        return Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
      };

      await page.goto(`${base}/sessions/${session.session_id}`);
      await state("paused");
      const index = await page.evaluate(
        async (u) => (await fetch(u)).json(),
        `/sessions/${session.session_id}/recordings/${rec.id}/index`,
      );
      assert.equal(index.complete, true);
      assert.equal(index.stop, null);
      const served = JSON.parse(await Deno.readTextFile(prebuilt));
      assert.equal(
        served.keyframeFile,
        built.keyframeFile,
        "the console used the prebuilt index, not a new one",
      );
      assert.ok(index.keyframes.length >= 1, `keyframes: ${JSON.stringify(index.keyframes)}`);

      // play to the end at 16×
      await page.selectOption(`${player} [data-act=speed]`, "16");
      await page.click(`${player} [data-act=play]`);
      await state("ended");
      await b.shot("ended");
      const end = await serverFrame(rec.path, Infinity);
      const got = await canvas();
      assert.ok(colours(got) > 1000, `the player shows the test pattern (${colours(got)} colours)`);
      const d1 = differing(got, end.rgba, end.pointer);
      assert.equal(d1.n, 0, `pixels differing from the renderer's last frame: ${d1.first.join("; ")}`);

      // seek to the middle: from the last keyframe at or before it, then the records after it
      const mid = Math.round(index.durationMs / 2);
      assert.notEqual(keyframeFor(index.keyframes, mid), null, "the middle is after a keyframe");
      await page.evaluate(([sel, t]) => {
        const input = document.querySelector(`${sel} [data-act=seek]`) as HTMLInputElement;
        input.value = String(t);
        input.dispatchEvent(new Event("change"));
      }, [player, mid] as const);
      await page.waitForSelector(`${player}[data-state="paused"][data-t="${mid}"]`, { timeout: 20_000 })
        .catch(
          async (e) => {
            const st = await page.evaluate((sel) => {
              const el = document.querySelector(sel) as HTMLElement;
              return `${JSON.stringify(el.dataset)} ${el.querySelector("[data-status]")?.textContent}`;
            }, player);
            throw new Error(`${e.message}; the player: ${st}; ${b.errors.join("; ")}`);
          },
        );
      const seekMs = Number(await page.getAttribute(player, "data-seek-ms"));
      const atMid = await serverFrame(rec.path, mid);
      const d2 = differing(await canvas(), atMid.rgba, atMid.pointer);
      assert.equal(d2.n, 0, `pixels differing after the seek to ${mid} ms: ${d2.first.join("; ")}`);
      assert.ok(differing(atMid.rgba, end.rgba, end.pointer).n > 0, "the middle differs from the end");
      console.log(`seek to ${mid} ms of ${index.durationMs}: ${seekMs} ms in Chromium`);

      // opened at a moment (a search hit's link: ?t=seconds&rec=id): the player starts there
      const startT = (mid / 1000).toFixed(1);
      const startMs = Math.round(Number(startT) * 1000);
      await page.goto(`${base}/sessions/${session.session_id}?t=${startT}&rec=${rec.id}`);
      await page.waitForSelector(`${player}[data-state="paused"][data-t="${startMs}"]`, { timeout: 30_000 });
      const atStart = await serverFrame(rec.path, startMs);
      const d3 = differing(await canvas(), atStart.rgba, atStart.pointer);
      assert.equal(d3.n, 0, `pixels differing when opened at ${startT} s: ${d3.first.join("; ")}`);

      // the timeline beside the player: a line typed a quarter in (put into the session's metadata as the
      // proxy keeps them; this backend sends no logon notification, so its own keystrokes stay counts)
      const quarter = Math.round(index.durationMs / 4);
      await env.db.sql`
        UPDATE sessions SET metadata = metadata || jsonb_build_object('key_lines', jsonb_build_array(
          jsonb_build_object('at', (SELECT started_at FROM recordings WHERE id = ${rec.id})
            + make_interval(secs => ${quarter / 1000}), 'text', 'notepad <b>plan</b>.txt')))
        WHERE session_id = ${session.session_id}`;
      await page.goto(`${base}/sessions/${session.session_id}`);
      await state("paused");
      const item = `.rdp-timeline [data-seek-rec="${rec.id}"][data-seek-ms="${quarter}"]`;
      assert.match((await page.textContent(item)) ?? "", /Typed\s+notepad <b>plan<\/b>\.txt/);
      await page.click(item);
      await page.waitForSelector(`${player}[data-state="paused"][data-t="${quarter}"]`, { timeout: 30_000 });
      const atQuarter = await serverFrame(rec.path, quarter);
      const d4 = differing(await canvas(), atQuarter.rgba, atQuarter.pointer);
      assert.equal(d4.n, 0, `pixels differing after a timeline click: ${d4.first.join("; ")}`);
      const serious = (await axeViolations(page)).filter((v) =>
        v.impact === "serious" || v.impact === "critical"
      );
      assert.deepEqual(serious, [], "the session page with player and timeline passes axe-core");

      // every read was audited: the recording from its start, and the keyframe
      const reads = (await audits(env.db.sql, "recording.download")).filter((a) =>
        a.actor === "console:audrey"
      );
      assert.ok(reads.some((a) => a.details.format === "rdp" && a.details.via === "view" && !a.details.part));
      assert.ok(reads.some((a) => a.details.part === "keyframe" && a.details.recording === rec.id));
      assert.ok(reads.every((a) => a.target === session.session_id));
      assert.deepEqual(b.errors, []);

      // a recording cut short (a crash, a full disk): plays to the cut, then says where and why it stopped
      const bytes = await Deno.readFile(rec.path);
      const s = new RecordStream();
      s.push(bytes);
      const offsets: number[] = [];
      for (let r; (r = s.next());) offsets.push(r.fileOffset);
      const cutRecord = offsets[Math.floor(offsets.length * 0.6)];
      await Deno.truncate(rec.path, cutRecord + 6);
      await page.reload();
      await state("paused");
      await page.selectOption(`${player} [data-act=speed]`, "16");
      await page.click(`${player} [data-act=play]`);
      await state("stopped");
      await b.shot("truncated");
      const status = await page.textContent(`${player} [data-status]`);
      assert.match(status!, /Playback stopped at \d+:\d\d: the recording is truncated; .*cut short/);
      assert.equal(await page.getAttribute(player, "data-stop-offset"), String(cutRecord));
      await fx.close();
    } finally {
      await b.close();
      await server?.shutdown();
      await env.close();
      await shadow.stop();
    }
  },
});

Deno.test({
  name: "Chromium watches an RDP session live: the current screen at once, a change within 2 s, the end",
  ignore: !haveAll(),
  async fn() {
    const shadow = await startShadow({ width: W, height: H });
    const env = await startRdpEnv({ backendPort: shadow.port });
    let server: Deno.HttpServer | null = null;
    const b = await openBrowser("rdp_browser_live");
    let client: Awaited<ReturnType<typeof startXfreerdp>> | null = null;
    try {
      await paint(shadow.display, env.dir, 0);
      client = await startXfreerdp({ host: POOL_IP, port: env.port, args: ["/sec:tls", "/bpp:32"] });
      await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "activation");
      await new Promise((r) => setTimeout(r, 3000)); // the first full-screen update is recorded
      const [session] = await env.db.sql<{ session_id: string }[]>`SELECT session_id FROM sessions`;
      const [rec] = await env.db.sql<{ id: number }[]>`SELECT id FROM recordings`;

      const fx = await fixture({ recordingsDir: `${env.dir}/recordings` }, env.db);
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

      // a late joiner: the current screen (a keyframe) before anything new is drawn
      const view = `#rdp-live-${rec.id}`;
      await page.goto(`${base}/sessions/${session.session_id}`);
      await page.waitForSelector(`${view}[data-state="live"]`);
      const sample = () =>
        page.evaluate((sel) => {
          const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          const seen = new Set<number>();
          let hash = 0;
          for (let i = 0; i < d.length; i += 4) {
            const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
            seen.add(v);
            hash = (Math.imul(hash, 31) + v) | 0;
          }
          return { colours: seen.size, hash, size: `${c.width}x${c.height}` };
        }, view);
      const first = await sample();
      assert.equal(first.size, `${W}x${H}`);
      assert.ok(first.colours > 1000, `the current screen shows the test pattern (${first.colours} colours)`);
      await b.shot("joined");

      // the backend's screen changes: the live view follows within 2 s
      const before = await sample();
      const painted = performance.now();
      await paint(shadow.display, env.dir, 3);
      let seenMs = -1;
      while (performance.now() - painted < 5000) {
        const now = await sample();
        if (now.hash !== before.hash && now.colours > 1000) {
          seenMs = performance.now() - painted;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(`live view: the new screen appeared after ${seenMs.toFixed(0)} ms (paint included)`);
      assert.ok(seenMs >= 0 && seenMs < 2000, `the change appeared after ${seenMs} ms`);
      await b.shot("changed");

      // the session ends: so does the stream
      await client.stop();
      client = null;
      await closedSession(env);
      await page.waitForSelector(`${view}[data-state="ended"]`, { timeout: 10_000 });
      assert.match((await page.textContent(`${view} [data-status]`))!, /The session has ended/);
      const reads = (await audits(env.db.sql, "recording.download")).filter((a) =>
        a.actor === "console:audrey"
      );
      assert.ok(reads.some((a) => a.details.part === "live" && a.target === session.session_id));
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
