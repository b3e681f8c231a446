// Bad input end to end: standard-RDP-security clients, garbage before and after TLS from clients and
// from a hostile backend. Each must close only its own connection, with an audit row.
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import {
  encodeConnectionConfirm,
  hex,
  parseConnectionConfirm,
  PROTOCOL_SSL,
  SSL_REQUIRED_BY_SERVER,
} from "../proxy/rdp/pdu/mod.ts";
import type { Sql } from "../db/client.ts";
import { haveRdpTools, runXfreerdp, startShadow, startXfreerdp, within } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { connectionRequest, rawConnect, rawTlsSession, readTpkt } from "./helpers/rdp_raw_client.ts";

const ignore = !haveRdpTools();

const audits = (sql: Sql, action: string) =>
  sql<{ details: Record<string, unknown> }[]>`
    SELECT details FROM audit_log WHERE action = ${action} ORDER BY id`;

Deno.test({
  name: "rdp proxy refuses standard-RDP-security-only clients with SSL_REQUIRED_BY_SERVER",
  ignore,
  async fn() {
    // no backend is needed: the refusal comes before routing
    const env = await startRdpEnv({ backendPort: 9 });
    try {
      for (const requested of [0, null]) {
        const c = await rawConnect(POOL_IP, env.port);
        try {
          c.write(connectionRequest(requested));
          const cc = parseConnectionConfirm(await readTpkt(c, 5000));
          assert.deepEqual(cc.negotiation, {
            type: "failure",
            failureCode: SSL_REQUIRED_BY_SERVER,
            flags: 0,
          });
          assert.ok(await c.closed(5000), "the proxy closed the connection");
        } finally {
          c.destroy();
        }
      }
      const r = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000, args: ["/sec:rdp"] });
      assert.ok(!r.killed);
      assert.match(r.output, /SSL_REQUIRED_BY_SERVER/);
      await env.proxy.auditsSettled();
      const denied = await audits(env.db.sql, "rdp.access_denied");
      assert.ok(denied.every((d) => d.details.reason === "tls_required"));
      // before identification, repeats from one source are folded into a summary row with their count
      const count = (d: { details: Record<string, unknown> }) =>
        typeof d.details.count === "number" ? d.details.count : 1;
      assert.equal(denied.reduce((n, d) => n + count(d), 0), 3, JSON.stringify(denied));
    } finally {
      await env.close();
    }
  },
});

Deno.test({
  name: "rdp proxy closes only the connection that sent a malformed PDU, with an audit row",
  ignore,
  async fn() {
    const shadow = await startShadow();
    const env = await startRdpEnv({ backendPort: shadow.port, proxy: { dedupeWindowMs: 60_000 } });
    const client = await startXfreerdp({ host: POOL_IP, port: env.port });
    try {
      await eventually(() => env.proxy.liveConnections().find((c) => c.activated), 15_000, "a live session");
      // 1. not RDP at all
      const http = await rawConnect(POOL_IP, env.port);
      http.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      assert.ok(await http.closed(5000));
      // 2. a Connection Request whose length indicator lies
      const bad = await rawConnect(POOL_IP, env.port);
      const cr = connectionRequest(PROTOCOL_SSL);
      cr[4] = 0x7f;
      bad.write(cr);
      assert.ok(await bad.closed(5000));
      // 3. after TLS, an X.224 Data TPDU with a corrupt MCS Connect Initial
      const t = await rawTlsSession(POOL_IP, env.port);
      t.write(hex("03 00 00 0c 02 f0 80 7f 65 82 ff ff"));
      assert.ok(await t.closed(5000));
      // 4. after TLS, a fast-path header with invalid action bits
      const t2 = await rawTlsSession(POOL_IP, env.port);
      t2.write(hex("ff 05 00 00 00"));
      assert.ok(await t2.closed(5000));

      await env.proxy.auditsSettled();
      const errors = await audits(env.db.sql, "rdp.protocol_error");
      assert.equal(errors.length, 4, JSON.stringify(errors));
      assert.deepEqual(errors.map((e) => e.details.phase), ["x224", "x224", "relay", "relay"]);
      assert.ok(errors.slice(2).every((e) => e.details.side === "client"));
      // connections that ended before their recording started leave nothing to seal: no false alarm
      await eventually(
        () => env.proxy.liveConnections().every((c) => c.activated),
        10_000,
        "the bad connections gone",
      );
      await env.proxy.auditsSettled();
      assert.equal((await audits(env.db.sql, "recording.seal_failed")).length, 0);
      // the real session is untouched
      assert.ok(env.proxy.liveConnections().some((c) => c.activated));
      assert.equal(await within(client.process.child.status.then(() => "exited"), 500, "running"), "running");
    } finally {
      await client.stop();
      await env.close();
      await shadow.stop();
    }
  },
});

Deno.test({
  name: "rdp proxy closes the connection when the backend sends a malformed PDU",
  ignore,
  async fn() {
    // a hostile backend: proper X.224 and TLS (with the proxy's own certificate, read once it exists),
    // then garbage instead of the MCS Connect Response
    let material: { cert: string; key: string } | null = null;
    const sockets = new Set<net.Socket>();
    const hostile = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.once("data", () => {
        s.write(encodeConnectionConfirm({
          dstRef: 0,
          srcRef: 0,
          classOptions: 0,
          negotiation: { type: "response", flags: 0, selectedProtocol: PROTOCOL_SSL },
        }));
        const t = new tls.TLSSocket(s, { isServer: true, ...material! });
        t.on("error", () => {});
        t.once("data", () => t.write(hex("03 00 00 0c 02 f0 80 7f 66 82 00 00")));
      });
    });
    await new Promise<void>((r) => hostile.listen({ host: "127.0.0.1", port: 0 }, r));
    const env = await startRdpEnv({ backendPort: (hostile.address() as net.AddressInfo).port });
    try {
      material = {
        cert: await Deno.readTextFile(`${env.dir}/rdp/tls_cert.pem`),
        key: await Deno.readTextFile(`${env.dir}/rdp/tls_key.pem`),
      };
      const ci = (JSON.parse(
        await Deno.readTextFile(new URL("./fixtures/rdp/shadow_session.json", import.meta.url)),
      ) as { hex: string }[])[0].hex;
      const c = await rawTlsSession(POOL_IP, env.port);
      c.write(hex(ci));
      assert.ok(await c.closed(5000), "the proxy closed the client connection");
      c.destroy();
      await env.proxy.auditsSettled();
      const [e] = await audits(env.db.sql, "rdp.protocol_error");
      assert.equal(e.details.side, "server");
      assert.equal(e.details.phase, "relay");
      const [s] = await env.db.sql`SELECT is_active, termination_reason FROM sessions`;
      assert.ok(s, "the session row was opened");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hostile.close(r));
      await env.close();
    }
  },
});

Deno.test({
  name: "rdp proxy drops connections beyond its bound of connections in setup",
  ignore,
  async fn() {
    // from alice's own address: without the reserve kept for users' sources (tested in rdp_preauth_flood_test)
    const env = await startRdpEnv({ backendPort: 9, proxy: { maxPendingSetups: 2, knownSourceReserve: 0 } });
    const idle = [];
    try {
      for (let i = 0; i < 2; i++) idle.push(await rawConnect(POOL_IP, env.port)); // connect, say nothing
      await eventually(() => env.proxy.activeConnections() === 2, 2000, "two pending setups");
      const third = await rawConnect(POOL_IP, env.port);
      idle.push(third);
      assert.ok(await third.closed(2000), "the third connection is dropped at once");
      for (const c of idle.slice(0, 2)) c.destroy();
      await eventually(() => env.proxy.activeConnections() === 0, 5000, "the idle ones to go");
      // and the proxy accepts again
      const c = await rawConnect(POOL_IP, env.port);
      idle.push(c);
      c.write(connectionRequest(0));
      assert.equal(parseConnectionConfirm(await readTpkt(c, 5000)).negotiation?.type, "failure");
    } finally {
      for (const c of idle) c.destroy();
      await env.close();
    }
  },
});
