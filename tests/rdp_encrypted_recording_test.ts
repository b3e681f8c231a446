// e2e with recording_encryption = age: xfreerdp → RDP proxy (recording) → freerdp-shadow-cli. The recording
// on disk is `<id>.rdprec.age`; the real `age` CLI decrypts it with the appliance's identity into a complete
// RDP recording, and the conversion pool (which decrypts it itself) turns it into an MP4 of the screen size.
import assert from "node:assert/strict";
import { join } from "node:path";
import { getConversion } from "../db/conversions.ts";
import { MAGIC } from "../recorder/rdp_file_format.ts";
import { readRecording, RecordType } from "../recorder/rdp_file.ts";
import { requestConversion, startConversionService } from "../recorder/convert/mod.ts";
import { recordingEncryption, recordingIdentityPath } from "../core/recording_identity.ts";
import { haveRdpTools, startShadow, startXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { freePort } from "./helpers/rdp_backend.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { fixture } from "../web/testing.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { createRenderer } from "../recorder/rdp_render/mod.ts";
import { applyRecord } from "../recorder/rdp_replay/apply.ts";
import { RecordStream } from "../recorder/rdp_replay/record_stream.ts";

async function playerShowsIt(
  env: Awaited<ReturnType<typeof startRdpEnv>>,
  dataDir: string,
  rec: { id: number; path: string },
  plain: string,
): Promise<void> {
  const fx = await fixture({
    dataDir,
    recordingsDir: join(env.dir, "recordings"),
    rdpIndexDir: join(dataDir, "rdp_index"),
  }, env.db);
  const port = await freePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    (req, info) => fx.app.fetch(req, { remoteAddr: info.remoteAddr }),
  );
  const b = await openBrowser("rdp_encrypted_player");
  try {
    await createConsoleUser(env.db.sql, {
      name: "audrey",
      role: "auditor",
      passwordHash: await hashPassword("pw-audrey-1"),
    }, { actor: "test" });
    const base = `http://127.0.0.1:${port}`;
    const page = b.page;
    await consoleLogin(page, base, "audrey", "pw-audrey-1");
    const [{ session_id: sid }] = await env.db.sql<{ session_id: string }[]>`SELECT session_id FROM sessions`;
    // a byte range of the plaintext, not of the ciphertext
    const plainBytes = await Deno.readFile(plain);
    const head = await page.evaluate(async (u) => {
      const r = await fetch(u, { headers: { Range: "bytes=0-7" } });
      return [r.status, r.headers.get("Content-Range"), [...new Uint8Array(await r.arrayBuffer())]];
    }, `/sessions/${sid}/recordings/${rec.id}/raw`);
    assert.deepEqual(head, [206, `bytes 0-7/${plainBytes.length}`, [...MAGIC]]);
    const player = `#rdp-player-${rec.id}`;
    await page.goto(`${base}/sessions/${sid}`);
    await page.waitForSelector(`${player}[data-state="paused"]`, { timeout: 60_000 });
    await page.selectOption(`${player} [data-act=speed]`, "16");
    await page.click(`${player} [data-act=play]`);
    await page.waitForSelector(`${player}[data-state="ended"]`, { timeout: 60_000 });
    const s = new RecordStream();
    s.push(plainBytes);
    const r = createRenderer({ width: W, height: H });
    for (let x; (x = s.next());) applyRecord(r, x.type, x.payload);
    const want = r.frame().rgba;
    const got = await page.evaluate((sel) => {
      const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let out = "";
      for (let i = 0; i < d.length; i += 0x8000) out += String.fromCharCode(...d.subarray(i, i + 0x8000));
      return `${c.width}x${c.height}:${btoa(out)}`;
    }, player);
    const [size, data] = got.split(":");
    assert.equal(size, `${W}x${H}`);
    const rgba = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
    // outside the pointer (composited on both sides alike, but its position at the very end may differ by a
    // frame): count differing pixels
    let diff = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      if (rgba[i] !== want[i] || rgba[i + 1] !== want[i + 1] || rgba[i + 2] !== want[i + 2]) diff++;
    }
    assert.ok(diff < 40 * 40, `pixels differing from the renderer's last frame: ${diff}`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await server.shutdown();
  }
}

const W = 1024, H = 768;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test({
  name: "an encrypted RDP recording decrypts with age -d and converts to an MP4",
  ignore: !haveRdpTools(),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "jh-rdp-age-" });
    const encryption = await recordingEncryption(
      { recordingEncryption: "age", recordingRecipients: [] },
      dataDir,
    );
    const shadow = await startShadow({ width: W, height: H });
    const env = await startRdpEnv({ backendPort: shadow.port, proxy: { recordingEncryption: encryption } });
    try {
      const client = await startXfreerdp({ host: POOL_IP, port: env.port, args: ["/sec:tls", "/bpp:32"] });
      try {
        await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "activation");
        await new Promise((r) => setTimeout(r, 2000)); // the first full-screen update
      } finally {
        await client.stop();
      }
      await eventually(
        async () => (await env.db.sql`SELECT 1 FROM sessions WHERE NOT is_active`).length === 1,
        10_000,
        "the session to end",
      );
      const [rec] = await env.db.sql<{ id: number; path: string }[]>`SELECT id, path FROM recordings`;
      assert.match(rec.path, /\.rdprec\.age$/);
      const stored = await Deno.readFile(rec.path);
      assert.equal(new TextDecoder().decode(stored.subarray(0, 22)), "age-encryption.org/v1\n");
      assert.equal((await Deno.stat(rec.path)).mode! & 0o777, 0o600);

      // the real age CLI with the appliance's identity: a complete RDP recording (it ends with END)
      const plain = join(dataDir, "plain.rdprec");
      const r = await new Deno.Command("age", {
        args: ["-d", "-i", recordingIdentityPath(dataDir), "-o", plain, rec.path],
        stderr: "piped",
      }).output();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      assert.deepEqual((await Deno.readFile(plain)).subarray(0, MAGIC.length), MAGIC);
      const types: RecordType[] = [];
      for await (const x of readRecording(plain)) types.push(x.type);
      assert.ok(types.length > 10, `${types.length} records`);
      assert.equal(types.at(-1), RecordType.END);

      // the console's in-browser player reads it decrypted: the raw bytes by range, the seek index, and the
      // canvas after playing to the end equals the renderer's last frame of the plaintext
      await playerShowsIt(env, dataDir, rec, plain);

      // the pool converts the encrypted file with the identity under its data directory
      const pool = await startConversionService(
        { config: { nodeId: "e2e", dataDir, conversionWorkers: 1 }, sql: env.db.sql, log: quiet },
        { pollMs: 200, reportMs: 200, heartbeatMs: 1000 },
      );
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
        assert.ok((await Deno.stat(done.output_path!)).size > 1000);
      } finally {
        await pool.stop();
      }
    } finally {
      await env.close();
      await shadow.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
