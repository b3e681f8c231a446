// End to end: xfreerdp (under Xvfb) → RDP proxy → FreeRDP shadow serving a static X screen.
import { hashFile } from "../recorder/seal.ts";
import assert from "node:assert/strict";
import { notifySessionKill } from "../db/notify.ts";
import { revokePolicy } from "../db/policies.ts";
import { openRecording, readRecording, RecordType } from "../recorder/rdp_file.ts";
import { parseFastPathOutput } from "../proxy/rdp/pdu/mod.ts";
import { freePort, haveRdpTools, runXfreerdp, startXfreerdp, within } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { activated, audits, closedSession, sessions, withShadow } from "./helpers/rdp_shadow.ts";

const ignore = !haveRdpTools();

Deno.test({
  name: "rdp proxy relays xfreerdp to shadow and records bitmap updates only",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port });
      try {
        const client = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await activated(env);
          await new Promise((r) => setTimeout(r, 2500)); // let the first full-screen update through
        } finally {
          await client.stop();
        }
        const s = await closedSession(env);
        assert.equal(s.termination_reason, "normal");
        assert.equal(s.server_name, "desk");
        assert.ok(s.recording_size! > 10_000, `recording of ${s.recording_size} bytes`);
        assert.equal(s.metadata.connections, 1);
        assert.equal(s.metadata.client_user, "rdpuser");
        const [rec] = await env.db.sql<{ path: string; size: number }[]>`SELECT path, size FROM recordings`;
        assert.equal(rec.size, s.recording_size);
        assert.equal((await Deno.stat(rec.path)).mode! & 0o777, 0o600);
        // sealed at close: the signed manifest holds the file's hash as stored
        const [seal] = await env.db.sql<{ manifest: string }[]>`SELECT manifest FROM recording_seals`;
        assert.ok(seal, "the RDP recording is sealed");
        const manifest = JSON.parse(seal.manifest);
        assert.deepEqual([manifest.kind, manifest.size], ["rdp", rec.size]);
        assert.equal(manifest.sha256, (await hashFile(rec.path)).sha256);

        const types = new Map<number, number>();
        const updateCodes = new Set<number>();
        const reader = await openRecording(rec.path);
        const header = reader.header;
        reader.close();
        for await (const r of readRecording(rec.path)) {
          types.set(r.type, (types.get(r.type) ?? 0) + 1);
          if (r.type === RecordType.SERVER_FASTPATH) {
            for (const u of parseFastPathOutput(r.payload).updates) updateCodes.add(u.updateCode);
          }
        }
        assert.equal(header.width, 1024);
        assert.ok(header.channels.length > 0);
        assert.ok(types.get(RecordType.SCREEN_RESIZE)! >= 1);
        assert.ok(types.get(RecordType.END) === 1, "recording closed cleanly");
        assert.ok(updateCodes.has(1), `bitmap updates expected, saw ${[...updateCodes]}`);
        assert.ok(!updateCodes.has(0), "no orders");
        assert.ok(!updateCodes.has(4), "no surface commands (RemoteFX/NSCodec)");
        assert.deepEqual(s.metadata.unrenderable_updates, {});
        await env.proxy.auditsSettled();
        assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 1);
        assert.equal((await audits(env.db.sql, "rdp.session_start")).length, 1);
        assert.equal((await audits(env.db.sql, "rdp.session_end")).length, 1);
      } finally {
        await env.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy denies a client without a grant quickly, with an audit row and no session",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port, noPolicy: true });
      try {
        const t0 = Date.now();
        // default negotiation (NLA, then TLS, then RDP): one attempt must be enough to see the denial
        const r = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000, args: [] });
        assert.ok(!r.killed, "the client gave up on its own");
        assert.notEqual(r.code, 0);
        assert.ok(Date.now() - t0 < 10_000);
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        await env.proxy.auditsSettled();
        const denied = await audits(env.db.sql, "rdp.access_denied");
        assert.equal(denied.length, 1);
        assert.equal(denied[0].details.reason, "no_policy");
        assert.equal(denied[0].actor, "alice");
        assert.equal(denied[0].target, "desk");
        assert.equal((await sessions(env.db.sql)).length, 0);
      } finally {
        await env.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy routes by pool IP and by the server's dedicated port, and refuses other addresses",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const dedicated = await freePort("0.0.0.0");
      const env = await startRdpEnv({ backendPort: shadow.port, rdpListenPort: dedicated });
      try {
        assert.deepEqual(env.proxy.dedicatedPorts(), [dedicated]);
        // a plain loopback address on the main port is neither a pool IP nor a dedicated port
        const other = await runXfreerdp({ host: "127.0.0.1", port: env.port, runMs: 20_000 });
        assert.ok(!other.killed);
        const c = await startXfreerdp({ host: "127.0.0.1", port: dedicated });
        try {
          await activated(env);
        } finally {
          await c.stop();
        }
        await env.proxy.auditsSettled();
        const denied = await audits(env.db.sql, "rdp.access_denied");
        assert.equal(denied.length, 1);
        assert.equal(denied[0].details.reason, "unknown_server");
        const granted = await audits(env.db.sql, "rdp.access_granted");
        assert.equal(granted.length, 1);
        assert.equal(granted[0].target, "desk");
        assert.equal(granted[0].details.local_port, dedicated);
      } finally {
        await env.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy joins reconnects within the window into one session with two recordings",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port, proxy: { dedupeWindowMs: 10_000 } });
      try {
        for (let i = 0; i < 2; i++) {
          const c = await startXfreerdp({ host: POOL_IP, port: env.port });
          try {
            await activated(env);
          } finally {
            await c.stop(); // SIGINT: TCP close without an MCS disconnect, like a network drop
          }
          await eventually(
            () => env.proxy.liveConnections().length === 0,
            5000,
            "the connection to end",
          );
        }
        const rows = await sessions(env.db.sql);
        assert.equal(rows.length, 1, "both connections belong to one session");
        assert.equal(rows[0].is_active, true, "still inside the reconnect window");
        const recs = await env.db.sql`SELECT channel FROM recordings WHERE session_id = ${
          rows[0].id
        } ORDER BY id`;
        assert.deepEqual(recs.map((r) => r.channel), ["connection-1", "connection-2"]);
        await env.proxy.auditsSettled();
        const starts = await audits(env.db.sql, "rdp.session_start");
        assert.deepEqual(starts.map((s) => s.details.joined_existing_session), [false, true]);
      } finally {
        await env.close(); // stop closes the waiting session with its real end time
      }
    });
  },
});

Deno.test({
  name: "rdp proxy disconnects a killed session within 2 s and closes its row as killed",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port, proxy: { dedupeWindowMs: 30_000 } });
      try {
        const c = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          const live = await activated(env);
          const t0 = Date.now();
          await notifySessionKill(env.db.sql, { session_id: live.sessionId, actor: "test-admin" });
          const status = await within(c.process.child.status, 5000, null);
          const clientGone = Date.now() - t0;
          assert.ok(status, "the client exited");
          assert.ok(clientGone < 2000, `client disconnected after ${clientGone} ms`);
          assert.notEqual(status.code, 0);
          assert.match(c.process.output(), /ERRINFO_RPC_INITIATED_DISCONNECT/);
          const [s] = await eventually(
            async () => {
              const rows = await sessions(env.db.sql);
              return !rows[0].is_active && rows;
            },
            5000,
            "the killed row",
          );
          assert.equal(s.termination_reason, "killed");
          assert.match(s.termination_detail!, /test-admin/);
          // the same user coming straight back (an auto-reconnect) does not undo the kill
          const again = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000 });
          assert.ok(!again.killed);
          await env.proxy.auditsSettled();
          const denied = await audits(env.db.sql, "rdp.access_denied");
          assert.equal(denied.at(-1)?.details.reason, "session_killed");
        } finally {
          await c.stop();
        }
      } finally {
        await env.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy ends sessions on grant expiry and on revoke within 2 s",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      // expiry: the grant ends a few seconds after the client is in
      const env = await startRdpEnv({ backendPort: shadow.port, grantMs: 9000 });
      try {
        const [{ valid_until }] = await env.db.sql<{ valid_until: Date }[]>`SELECT valid_until FROM policies`;
        const c = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await activated(env);
          assert.ok(await within(c.process.child.status, 15_000, null), "the client exited");
          const late = Date.now() - valid_until.getTime();
          assert.ok(late < 2000, `client disconnected ${late} ms after the grant ended`);
        } finally {
          await c.stop();
        }
        const [s] = await eventually(
          async () => {
            const rows = await sessions(env.db.sql);
            return !rows[0].is_active && rows;
          },
          5000,
          "the expired row",
        );
        assert.equal(s.termination_reason, "expired");
      } finally {
        await env.close();
      }
      // revoke: an admin withdraws the grant while the session runs
      const env2 = await startRdpEnv({ backendPort: shadow.port });
      try {
        const c = await startXfreerdp({ host: POOL_IP, port: env2.port });
        try {
          await activated(env2);
          const t0 = Date.now();
          await revokePolicy(env2.db.sql, env2.policyId, "test-admin", "test");
          assert.ok(await within(c.process.child.status, 5000, null), "the client exited");
          assert.ok(Date.now() - t0 < 2000, `client disconnected ${Date.now() - t0} ms after the revoke`);
        } finally {
          await c.stop();
        }
        const [s] = await eventually(
          async () => {
            const rows = await sessions(env2.db.sql);
            return !rows[0].is_active && rows;
          },
          5000,
          "the revoked row",
        );
        assert.equal(s.termination_reason, "revoked");
      } finally {
        await env2.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy stop ends live sessions with a message to the client and closes rows as shutdown",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port });
      try {
        const c = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await activated(env);
          await env.proxy.stop();
          assert.ok(await within(c.process.child.status, 5000, null), "the client exited");
          assert.match(c.process.output(), /ERRINFO_RPC_INITIATED_DISCONNECT/);
        } finally {
          await c.stop();
        }
        const [s] = await sessions(env.db.sql);
        assert.equal(s.is_active, false);
        assert.equal(s.termination_reason, "shutdown");
        const [rec] = await env.db.sql<
          { size: number; ended_at: Date | null }[]
        >`SELECT size, ended_at FROM recordings`;
        assert.ok(rec.size > 0 && rec.ended_at, "the recording row was finished");
      } finally {
        await env.close();
      }
    });
  },
});
