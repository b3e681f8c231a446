// Pre-authentication floods against the RDP listener (real PostgreSQL): 1,000 garbage connections from one
// source write a bounded number of audit rows whose counts add up to 1,000, the pending audit writes stay
// bounded meanwhile, and the connections in setup are capped per source while another source gets through.
import assert from "node:assert/strict";
import { POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { parseConnectionConfirm, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";

const GARBAGE = [
  new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"),
  new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]), // a TLS ClientHello's start, no X.224
];

Deno.test("rdp: 1,000 garbage connections make a bounded number of audit rows that count them all", async () => {
  const env = await startRdpEnv({ backendPort: 9 });
  try {
    const N = 1000;
    let maxPending = 0;
    const one = async (i: number) => {
      const c = await rawConnect(POOL_IP, env.port);
      try {
        c.write(GARBAGE[i % GARBAGE.length]);
        assert.ok(await c.closed(10_000), `connection ${i} closed by the proxy`);
      } finally {
        c.destroy();
      }
      maxPending = Math.max(maxPending, env.proxy.pendingAudits());
    };
    for (let i = 0; i < N; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) => one(i + k)));
    }
    await env.proxy.auditsSettled();
    const rows = await env.db.sql<{ actor: string; source_ip: string; details: Record<string, unknown> }[]>`
      SELECT actor, host(source_ip) AS source_ip, details FROM audit_log
      WHERE action = 'rdp.protocol_error' ORDER BY id`;
    const total = rows.reduce((n, r) => n + (typeof r.details.count === "number" ? r.details.count : 1), 0);
    assert.equal(total, N, JSON.stringify(rows.map((r) => r.details)));
    // per reason: the first at once, the rest as one summary for the minute
    const reasons = new Set(rows.map((r) => `${r.details.phase}:${r.details.code}`));
    assert.ok(rows.length <= 2 * reasons.size, `${rows.length} rows for ${reasons.size} reasons`);
    assert.ok(rows.length <= 4, `${rows.length} rows`);
    const summaries = rows.filter((r) => r.details.aggregated === true);
    assert.ok(summaries.length >= 1);
    for (const s of summaries) {
      assert.equal(s.source_ip, "127.0.0.1");
      assert.equal(s.actor, "unknown");
      assert.ok(typeof s.details.first_at === "string" && typeof s.details.last_at === "string");
      assert.equal(s.details.window_seconds, 60);
    }
    assert.ok(maxPending <= 20, `pending audit writes stayed bounded (max ${maxPending})`);
  } finally {
    await env.close();
  }
});

Deno.test("rdp: connections in setup are capped per source; another source still gets its answer", async () => {
  const env = await startRdpEnv({ backendPort: 9, noPolicy: true, proxy: { maxPendingSetupsPerSource: 8 } });
  const held: Awaited<ReturnType<typeof rawConnect>>[] = [];
  try {
    // eight silent connections from 127.0.0.1 hold their setup slots (the proxy waits for a Connection Request)
    for (let i = 0; i < 8; i++) held.push(await rawConnect(POOL_IP, env.port));
    await new Promise((r) => setTimeout(r, 200));
    const ninth = await rawConnect(POOL_IP, env.port);
    assert.ok(await ninth.closed(5000), "the ninth from the same source is cut at once");
    ninth.destroy();
    // another source address is still answered (a denial here: no policy, but an answer, not a cut)
    const other = await new Promise<Awaited<ReturnType<typeof rawConnect>>>((resolve, reject) => {
      import("node:net").then(({ default: net }) => {
        const s = net.connect({ host: POOL_IP, port: env.port, localAddress: "127.0.0.77" });
        s.once("error", reject);
        s.once("connect", () => {
          s.off("error", reject);
          resolve({
            socket: s,
            received: () => new Uint8Array(0),
            closed: () => Promise.resolve(false),
            write: (b) => void s.write(b),
            destroy: () => s.destroy(),
          });
        });
      });
    });
    let got = new Uint8Array(0);
    other.socket.on("data", (d: Uint8Array) => got = new Uint8Array([...got, ...d]));
    other.write(connectionRequest(PROTOCOL_SSL));
    const until = Date.now() + 10_000;
    while (got.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    other.destroy();
    assert.ok(got.length >= 4, "the other source got a Connection Confirm");
    assert.ok(parseConnectionConfirm(got.slice(0, (got[2] << 8) | got[3])));
    // and once the flood ends, the first source is served again
    for (const h of held.splice(0)) h.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await rawConnect(POOL_IP, env.port);
    again.write(connectionRequest(PROTOCOL_SSL));
    assert.ok(parseConnectionConfirm(await readTpkt(again, 10_000)));
    again.destroy();
  } finally {
    for (const h of held) h.destroy();
    await env.close();
  }
});

Deno.test("rdp: a listener filled from unknown addresses still answers a user's source (the reserve)", async () => {
  const env = await startRdpEnv({
    backendPort: 9,
    noPolicy: true,
    proxy: { maxPendingSetups: 4, knownSourceReserve: 2 },
  });
  const held: Awaited<ReturnType<typeof rawConnect>>[] = [];
  try {
    // four silent connections from addresses in nobody's CIDR fill the setups
    for (const bind of ["127.0.0.80", "127.0.0.81", "127.0.0.82", "127.0.0.83"]) {
      held.push(await rawConnect(POOL_IP, env.port, bind));
    }
    await new Promise((r) => setTimeout(r, 200));
    const fifth = await rawConnect(POOL_IP, env.port, "127.0.0.84");
    assert.ok(await fifth.closed(5000), "a fifth unknown address is cut at once");
    fifth.destroy();
    // 127.0.0.1 is alice's source CIDR: answered from the reserve
    const alice = await rawConnect(POOL_IP, env.port);
    alice.write(connectionRequest(PROTOCOL_SSL));
    assert.ok(parseConnectionConfirm(await readTpkt(alice, 10_000)));
    alice.destroy();
  } finally {
    for (const h of held) h.destroy();
    await env.close();
  }
});
