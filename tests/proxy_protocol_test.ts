// e2e: a real HAProxy (TCP mode, send-proxy-v2) in front of the SSH and RDP proxies, real OpenSSH clients bound to
// distinct 127.x sources, a real sshd and PostgreSQL. The proxy sees the client's address, not the
// balancer's; a pool IP dialled on the balancer reaches that pool IP's server; a header from a sender
// outside proxy_protocol_from, and a missing one from the balancer, are refused and audited.
import assert from "node:assert/strict";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { freePort } from "./helpers/sshd.ts";
import { startHaproxy } from "./helpers/haproxy.ts";
import { CLIENT_IP, startServeEnv } from "./helpers/serve_env.ts";
import { proxyProtocolSettings } from "../proxy/proxy_protocol.ts";
import { haveRdpTools, runXfreerdp, startXfreerdp } from "./helpers/rdp_backend.ts";
import { POOL_IP as POOL_IP_RDP, startRdpEnv } from "./helpers/rdp_env.ts";
import { activated, closedSession, sessions, withShadow } from "./helpers/rdp_shadow.ts";

const BALANCER = "127.0.44.9"; // the trusted balancer's source address
const IMPOSTOR = "127.0.44.8"; // a balancer nobody configured
const SERVICE = "127.0.44.1"; // the address users dial
const POOL_IP = "127.0.44.2"; // web2's pool IP, on the balancer only
const ALICE = "127.0.45.10"; // the real client

interface SessionRow {
  server_name: string;
  source_ip: string;
  proxy_ip: string;
  route: string;
}

async function closedSessions(sql: import("../db/client.ts").Sql, n: number): Promise<SessionRow[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const rows = await sql<(SessionRow & { is_active: boolean })[]>`
      SELECT server_name, host(source_ip) AS source_ip, host(proxy_ip) AS proxy_ip, metadata->>'route' AS route,
        is_active FROM sessions ORDER BY id`;
    if (rows.length >= n && rows.every((r) => !r.is_active)) {
      return rows.map(({ is_active: _, ...r }) => r);
    }
    if (Date.now() > until) throw new Error(`sessions not closed: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("SSH behind HAProxy with PROXY v2: the client's address and dialled pool IP survive; impostors refused", async (t) => {
  const env = await startSshEnv({
    proxyProtocol: proxyProtocolSettings([`${BALANCER}/32`], "required"),
  });
  const port = freePort(SERVICE);
  const impostorPort = freePort(SERVICE);
  const plainPort = freePort(SERVICE);
  const jump = `127.0.0.1:${env.port}`;
  const haproxy = await startHaproxy([
    {
      name: "ssh",
      bind: [`${SERVICE}:${port}`, `${POOL_IP}:${port}`],
      to: jump,
      sendProxyV2: true,
      check: true,
      source: BALANCER,
    },
    { name: "impostor", bind: [`${SERVICE}:${impostorPort}`], to: jump, sendProxyV2: true, source: IMPOSTOR },
    { name: "plain", bind: [`${SERVICE}:${plainPort}`], to: jump, sendProxyV2: false, source: BALANCER },
  ]);
  try {
    const alice = await env.key("alice");
    // alice may come only from her own address: through the balancer she is admitted only if the proxy
    // sees it (the balancer's address is in no user's source CIDR)
    await env.addUser("alice", ALICE, { keys: [alice.pub] });
    await env.addServer("web1");
    await env.addServer("web2", { poolIp: POOL_IP });
    await env.grant("alice", "web1");
    await env.grant("alice", "web2");
    for (const s of ["web1", "web2"]) {
      const pub = await env.applianceKey(s);
      await Deno.writeTextFile(`${env.sshd.dir}/authorized/${env.sshd.user}`, pub + "\n", { append: true });
    }
    const me: ClientId = { bind: ALICE, key: alice.path };
    const U = env.sshd.user;

    await t.step("through the balancer: admitted as the client's address, audited with it", async () => {
      const r = await ssh(me, port, SERVICE, `${U}@web1`, ["echo via-balancer"]);
      assert.equal(r.code, 0, r.stderr + (await Deno.readTextFile(haproxy.log)));
      assert.equal(r.stdout, "via-balancer\n");
      const [row] = await closedSessions(env.db.sql, 1);
      assert.deepEqual(row, { server_name: "web1", source_ip: ALICE, proxy_ip: SERVICE, route: "name" });
      const granted = await env.db.sql<{ source_ip: string }[]>`
        SELECT host(source_ip) AS source_ip FROM audit_log WHERE action = 'ssh.access_granted'`;
      assert.deepEqual(granted.map((g) => g.source_ip), [ALICE]);
    });

    await t.step("a pool IP dialled on the balancer routes to that pool IP's server", async () => {
      const r = await ssh(me, port, POOL_IP, U, ["echo pooled"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "pooled\n");
      const rows = await closedSessions(env.db.sql, 2);
      assert.deepEqual(rows[1], {
        server_name: "web2",
        source_ip: ALICE,
        proxy_ip: POOL_IP,
        route: "pool_ip",
      });
    });

    await t.step("a header from a sender outside proxy_protocol_from is refused and audited", async () => {
      const r = await ssh(me, impostorPort, SERVICE, `${U}@web1`, ["echo nope"]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, "");
    });

    await t.step("the balancer without a header is refused (proxy_protocol required)", async () => {
      const r = await ssh(me, plainPort, SERVICE, `${U}@web1`, ["echo nope"]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, "");
    });

    await t.step("a direct client (not a balancer) without a header connects as before", async () => {
      const r = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo direct"]);
      assert.equal(r.code, 0, r.stderr);
      const rows = await closedSessions(env.db.sql, 3);
      assert.deepEqual(rows[2], {
        server_name: "web1",
        source_ip: ALICE,
        proxy_ip: "127.0.0.1",
        route: "name",
      });
    });

    await t.step("the refusals are in the audit log with the sender's address and why", async () => {
      await env.proxy.auditsSettled();
      const refused = await env.db.sql<{ source_ip: string; reason: string; success: boolean }[]>`
        SELECT host(source_ip) AS source_ip, details->>'reason' AS reason, success FROM audit_log
        WHERE action = 'ssh.proxy_header_refused' AND NOT coalesce((details->>'aggregated')::boolean, false)
        ORDER BY id`;
      // HAProxy retries a connection the server closed at once (a retry it resets before we read it is
      // not audited), and its health checks (a LOCAL header every 300 ms) are not refusals at all
      const seen = new Set(refused.map((r) => `${r.source_ip} ${r.reason}`));
      assert.deepEqual(
        [...seen].sort(),
        [`${BALANCER} proxy_header_missing`, `${IMPOSTOR} proxy_header_untrusted`].sort(),
        JSON.stringify(refused),
      );
      assert.ok(refused.every((r) => !r.success), JSON.stringify(refused));
      // nobody got a session from those attempts, and no refusal carries the client's address
      assert.equal(refused.filter((r) => r.source_ip === ALICE).length, 0);
      assert.equal((await closedSessions(env.db.sql, 3)).length, 3);
    });
  } finally {
    await haproxy.stop();
    await env.close();
  }
});

Deno.test({
  name: "RDP behind HAProxy with PROXY v2: xfreerdp admitted with its own address on the pool IP it dialled",
  ignore: !haveRdpTools(),
  async fn() {
    await withShadow(async (shadow) => {
      // alice may come from 127.0.0.1 only (xfreerdp cannot pick its source); the balancer's 127.0.44.9 is
      // in no CIDR and the proxy's own 127.0.0.1 is no pool IP: admission and routing need the header
      const env = await startRdpEnv({
        backendPort: shadow.port,
        proxy: { proxyProtocol: proxyProtocolSettings([`${BALANCER}/32`], "required") },
      });
      const port = freePort(POOL_IP_RDP);
      const impostorPort = freePort(POOL_IP_RDP);
      const jump = `127.0.0.1:${env.port}`;
      const haproxy = await startHaproxy([
        { name: "rdp", bind: [`${POOL_IP_RDP}:${port}`], to: jump, sendProxyV2: true, source: BALANCER },
        {
          name: "impostor",
          bind: [`${POOL_IP_RDP}:${impostorPort}`],
          to: jump,
          sendProxyV2: true,
          source: IMPOSTOR,
        },
      ]);
      try {
        const c = await startXfreerdp({ host: POOL_IP_RDP, port });
        try {
          await activated(env);
        } finally {
          await c.stop();
        }
        const s = await closedSession(env);
        assert.equal(s.server_name, "desk");
        const [row] = await env.db.sql<{ source_ip: string; proxy_ip: string }[]>`
          SELECT host(source_ip) AS source_ip, host(proxy_ip) AS proxy_ip FROM sessions WHERE protocol = 'rdp'`;
        assert.deepEqual({ ...row }, { source_ip: "127.0.0.1", proxy_ip: POOL_IP_RDP });
        await env.proxy.auditsSettled();
        const granted = await env.db.sql<{ source_ip: string; local_address: string; local_port: number }[]>`
          SELECT host(source_ip) AS source_ip, details->>'local_address' AS local_address,
            (details->>'local_port')::int AS local_port FROM audit_log WHERE action = 'rdp.access_granted'`;
        assert.deepEqual([...granted], [{
          source_ip: "127.0.0.1",
          local_address: POOL_IP_RDP,
          local_port: port,
        }]);

        // the same client through a balancer nobody configured: refused before the RDP handshake
        const r = await runXfreerdp({ host: POOL_IP_RDP, port: impostorPort, runMs: 15_000 });
        assert.ok(!r.killed, "the client gave up on its own");
        await env.proxy.auditsSettled();
        const refused = await env.db.sql<{ source_ip: string; reason: string }[]>`
          SELECT host(source_ip) AS source_ip, details->>'reason' AS reason FROM audit_log
          WHERE action = 'rdp.proxy_header_refused'`;
        assert.ok(refused.length >= 1);
        assert.ok(refused.some((x) => x.source_ip === IMPOSTOR && x.reason === "proxy_header_untrusted"));
        assert.equal((await sessions(env.db.sql)).length, 1);
      } finally {
        await haproxy.stop();
        await env.close();
      }
    });
  },
});

Deno.test("jumphost serve reads proxy_protocol_from from its environment: the SSH worker believes the balancer", async () => {
  const env = await startServeEnv({ env: { JUMPHOST_PROXY_PROTOCOL_FROM: `${BALANCER}/32` } });
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | null = null;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const port = freePort(SERVICE);
    haproxy = await startHaproxy([
      {
        name: "ssh",
        bind: [`${SERVICE}:${port}`],
        to: `127.0.0.1:${env.ports.ssh}`,
        sendProxyV2: true,
        source: BALANCER,
      },
    ]);
    const r = await ssh(env.client, port, SERVICE, env.target, ["echo served"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "served\n");
    const rows = await env.db.sql<{ source_ip: string }[]>`
      SELECT host(source_ip) AS source_ip FROM sessions WHERE protocol = 'ssh'`;
    assert.deepEqual(rows.map((x) => x.source_ip), [CLIENT_IP]);
  } finally {
    await haproxy?.stop();
    await env.close();
  }
});
