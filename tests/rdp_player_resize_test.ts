// A desktop resized mid-session (the server's new Demand Active, recorded as SCREEN_RESIZE): the in-browser
// player resizes its canvas and draws the new desktop, and a seek back before the resize shows the old size
// again — pixel for pixel what the renderer computes here. The recording is written with the proxy's own
// writer from planar bitmap updates (recorder/convert/testdata/synth_pdus.ts), so the sizes and times are
// exact; tests/rdp_resize_e2e_test.ts drives a real resize (freerdp-shadow on Xvnc, xrandr).
import assert from "node:assert/strict";
import { join } from "node:path";
import { createConsoleUser } from "../db/console_users.ts";
import { addRecording, finishRecording } from "../db/recordings.ts";
import { hashPassword } from "../policy/password.ts";
import { encodeScreenResize, openRecordingWriter, RecordType } from "../recorder/rdp_file.ts";
import { repaint } from "../recorder/convert/testdata/synth_pdus.ts";
import { createRenderer } from "../recorder/rdp_render/mod.ts";
import { applyRecord } from "../recorder/rdp_replay/apply.ts";
import { RecordStream } from "../recorder/rdp_replay/record_stream.ts";
import { fixture, insertSession } from "../web/testing.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { freePort } from "./helpers/rdp_backend.ts";

/** a screen of w×h with a diagonal gradient and a block of `rgb` */
function picture(w: number, h: number, rgb: [number, number, number]): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const inBlock = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
      px.set(inBlock ? [...rgb, 255] : [(x * 255 / w) | 0, (y * 255 / h) | 0, 128, 255], i);
    }
  }
  return px;
}

async function renderedAt(path: string, t: number) {
  const s = new RecordStream();
  s.push(await Deno.readFile(path));
  const r = createRenderer({ width: 640, height: 480 });
  for (let rec; (rec = s.next());) {
    if (rec.offsetMillis > t) break;
    applyRecord(r, rec.type, rec.payload);
  }
  const f = r.frame();
  return { width: f.width, height: f.height, rgba: f.rgba.slice() };
}

Deno.test("the in-browser RDP player follows a desktop resize, and a seek back shows the old size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jh-rdp-resize-" });
  const recordings = join(dir, "recordings");
  await Deno.mkdir(recordings);
  const fx = await fixture({ recordingsDir: recordings, rdpIndexDir: join(dir, "rdp_index") });
  let server: Deno.HttpServer | null = null;
  const b = await openBrowser("rdp_player_resize");
  try {
    const path = join(recordings, "resize.jhrdp");
    let now = 0;
    const writer = await openRecordingWriter(path, {
      startedAt: new Date().toISOString(),
      width: 640,
      height: 480,
      colorDepth: 32,
      sessionId: "resize",
      source: { address: "192.0.2.1" },
      target: { host: "192.0.2.2", port: 3389 },
      channels: [],
    }, { clock: () => now });
    const paint = (w: number, h: number, rgb: [number, number, number]) => {
      for (const pdu of repaint(picture(w, h, rgb), w, { x: 0, y: 0, w, h })) {
        assert.ok(writer.append(RecordType.SERVER_FASTPATH, pdu, now));
      }
    };
    paint(640, 480, [200, 0, 0]);
    now = 2000;
    assert.ok(
      writer.append(RecordType.SCREEN_RESIZE, encodeScreenResize({ width: 800, height: 600, bpp: 32 }), now),
    );
    paint(800, 600, [0, 0, 200]);
    now = 4000;
    paint(800, 600, [0, 200, 0]);
    now = 5000;
    await writer.close();

    const session = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const recId = await addRecording(fx.db.sql, {
      sessionRowId: session.id,
      kind: "rdp",
      channel: "connection-1",
      path,
    });
    await finishRecording(fx.db.sql, recId, (await Deno.stat(path)).size, new Date());
    await createConsoleUser(fx.db.sql, {
      name: "audrey",
      role: "auditor",
      passwordHash: await hashPassword("pw-audrey-1"),
    }, { actor: "test" });
    const port = await freePort();
    server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {} },
      (req, info) => fx.app.fetch(req, { remoteAddr: info.remoteAddr }),
    );
    const base = `http://127.0.0.1:${port}`;
    const page = b.page;
    await consoleLogin(page, base, "audrey", "pw-audrey-1");

    const player = `#rdp-player-${recId}`;
    const canvas = async () => {
      const got = await page.evaluate((sel) => {
        const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
        const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        let s = "";
        for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
        return { width: c.width, height: c.height, b64: btoa(s) };
      }, player);
      return { ...got, rgba: Uint8Array.from(atob(got.b64), (ch) => ch.charCodeAt(0)) };
    };
    const seekTo = async (t: number) => {
      await page.evaluate(([sel, t]) => {
        const input = document.querySelector(`${sel} [data-act=seek]`) as HTMLInputElement;
        input.value = String(t);
        input.dispatchEvent(new Event("change"));
      }, [player, t] as const);
      await page.waitForSelector(`${player}[data-state="paused"][data-t="${t}"]`, { timeout: 20_000 });
    };
    const same = async (t: number, size: [number, number]) => {
      const want = await renderedAt(path, t);
      assert.deepEqual([want.width, want.height], size, "the renderer's size");
      const got = await canvas();
      assert.deepEqual([got.width, got.height], size, `the canvas at ${t} ms`);
      let diff = 0;
      for (let i = 0; i < got.rgba.length; i++) if (got.rgba[i] !== want.rgba[i]) diff++;
      assert.equal(diff, 0, `bytes differing from the renderer at ${t} ms`);
    };

    await page.goto(`${base}/sessions/${session.session_id}`);
    await page.waitForSelector(`${player}[data-state="paused"]`, { timeout: 30_000 });
    await same(0, [640, 480]);
    await seekTo(4500);
    await same(4500, [800, 600]);
    await seekTo(1000);
    await same(1000, [640, 480]);
    await seekTo(3000);
    await same(3000, [800, 600]);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await server?.shutdown();
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
