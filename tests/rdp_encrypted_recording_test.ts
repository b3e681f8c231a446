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
