// End to end against xrdp (Xvnc session, real PAM logon): the downgrade must leave it sending plain,
// uncompressed bitmap updates, and the recording must hold them.
import assert from "node:assert/strict";
import { readRecording, RecordType } from "../recorder/rdp_file.ts";
import {
  PACKET_COMPRESSED,
  parseFastPathOutput,
  parseShareControlPdus,
  parseShareDataHeader,
  PDUTYPE2_UPDATE,
  PDUTYPE_DATAPDU,
} from "../proxy/rdp/pdu/mod.ts";
import { startXfreerdp } from "./helpers/rdp_backend.ts";
import { startXrdp, XRDP_PASSWORD, XRDP_USER } from "./helpers/xrdp.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";

Deno.test({
  name: "rdp proxy relays xfreerdp to xrdp with uncompressed bitmap updates and records them",
  // a missing xrdp, Xvfb or xfreerdp fails the test naming it (scripts/deps.sh test installs them)
  ignore: Deno.uid() !== 0,
  async fn() {
    const xrdp = await startXrdp();
    const env = await startRdpEnv({ backendPort: xrdp.port });
    try {
      const c = await startXfreerdp({
        host: POOL_IP,
        port: env.port,
        user: XRDP_USER,
        password: XRDP_PASSWORD,
      });
      try {
        await eventually(() => env.proxy.liveConnections().find((x) => x.activated), 20_000, "activation");
        // the clipboard traffic asserted below needs xrdp's channel server: say so if it did not start
        await xrdp.waitForChansrv();
        // the Xvnc session and its window manager start after activation; wait for their drawing
        await new Promise((r) => setTimeout(r, 5000));
      } finally {
        await c.stop();
      }
      const [s] = await eventually(
        async () => {
          const rows = await env.db.sql<{ is_active: boolean; metadata: Record<string, unknown> }[]>`
          SELECT is_active, metadata FROM sessions`;
          return rows.length === 1 && !rows[0].is_active && rows;
        },
        10_000,
        "the session to close",
      );
      assert.equal(s.metadata.client_user, XRDP_USER);
      // the backend's certificate was pinned on first use: the very one xrdp serves
      const fp = await new Deno.Command("openssl", {
        args: ["x509", "-in", xrdp.certPath, "-noout", "-fingerprint", "-sha256"],
      }).output();
      const [pin] = await env.db.sql<{ rdp_cert_sha256: string }[]>`SELECT rdp_cert_sha256 FROM servers`;
      assert.equal(pin.rdp_cert_sha256, new TextDecoder().decode(fp.stdout).trim().split("=")[1]);
      // xrdp sends no Save Session Info: an autologon client with a password is not taken as logged on
      // (Windows could still show its logon screen), so typed keys stay redacted for the whole session
      assert.equal(s.metadata.logged_on_at ?? null, null, "INFO_AUTOLOGON alone is not a logon");
      assert.deepEqual(s.metadata.unrenderable_updates, {});
      // xrdp's clipboard channel talked (capabilities, format lists) and every message parsed
      assert.deepEqual(s.metadata.audit_gaps, []);
      const messages = s.metadata.channel_messages as Record<string, number>;
      assert.ok(messages.cliprdr >= 4, `cliprdr messages audited: ${JSON.stringify(messages)}`);
      const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings`;
      const { openRecording } = await import("../recorder/rdp_file.ts");
      const reader = await openRecording(rec.path);
      reader.close();
      assert.ok(
        reader.header.channels.some((ch) => ch.name === "cliprdr"),
        "the clipboard channel was offered",
      );
      let bitmaps = 0;
      let compressed = 0;
      let orders = 0;
      for await (const r of readRecording(rec.path)) {
        if (r.type === RecordType.SERVER_SLOWPATH) {
          for (const p of parseShareControlPdus(r.payload)) {
            if (p.isFlow || p.pduType !== PDUTYPE_DATAPDU) continue;
            const sd = parseShareDataHeader(p.body);
            if (sd.compressedType & PACKET_COMPRESSED) compressed++;
            else if (sd.pduType2 === PDUTYPE2_UPDATE) {
              const updateType = sd.data[0] | (sd.data[1] << 8);
              if (updateType === 1) bitmaps++;
              if (updateType === 0) orders++;
            }
          }
        } else if (r.type === RecordType.SERVER_FASTPATH) {
          for (const u of parseFastPathOutput(r.payload).updates) {
            if (u.compression !== 0) compressed++;
            if (u.updateCode === 1) bitmaps++;
            if (u.updateCode === 0 || u.updateCode === 4) orders++;
          }
        }
      }
      assert.ok(bitmaps >= 3, `only ${bitmaps} bitmap updates recorded`);
      assert.equal(compressed, 0, "bulk compression was negotiated away");
      assert.equal(orders, 0, "no orders or surface commands");
    } finally {
      await env.close();
      await xrdp.stop();
    }
  },
});
