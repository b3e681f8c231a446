// Three appliances behind one load balancer, all real: three `jumphost serve` processes on 127.0.0.21-23
// sharing one PostgreSQL and one recordings directory, HAProxy (TCP, round robin, send-proxy-v2, health
// checks) in front of their SSH listeners, OpenSSH clients and a real sshd. Connections through the balancer
// land on all three nodes and every node sees the client's own address; a pool IP dialled on the balancer
// reaches that pool IP's server on whichever node takes it; a PROXY header from a sender outside
// proxy_protocol_from is refused; `kill -9` of one node ends its session as node_lost within 40 s, the
// balancer takes the node out, and the user's reconnect through it lands on a living node.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ServeEnv, startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs, ssh } from "./helpers/ssh_clients.ts";
import { freePort, makeKey } from "./helpers/sshd.ts";
import { startHaproxy } from "./helpers/haproxy.ts";
import { createServer } from "../db/servers.ts";
import { createPolicy } from "../db/policies.ts";

const BALANCER = "127.0.46.9"; // the balancer's source address toward the nodes
const IMPOSTOR = "127.0.46.8"; // a balancer nobody configured
const SERVICE = "127.0.46.1"; // the address users dial
const POOL_IP = "127.0.46.2"; // web2's pool IP, on the balancer
const NODES = ["127.0.0.21", "127.0.0.22", "127.0.0.23"];

async function waitFor<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("three nodes behind HAProxy: spread, real client address, pool IP, impostor refused, kill -9 → node_lost and reconnect", async () => {
  const shared = await Deno.makeTempDir({ prefix: "jh-shared-rec3-" });
  const common = {
    JUMPHOST_RECORDINGS_DIR: shared,
    JUMPHOST_PROXY_PROTOCOL_FROM: `${BALANCER}/32`,
    JUMPHOST_IP_POOL: "127.0.46.0/29",
  };
  const envs: ServeEnv[] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | null = null;
  let long: Deno.ChildProcess | null = null;
  try {
    const a = await startServeEnv({ host: NODES[0], env: { ...common, JUMPHOST_NODE_ID: "node-1" } });
    envs.push(a);
    await a.serve.waitFor(/"msg":"ready"/, 60_000);
    // web2 on the same sshd, reached by its pool IP; the appliance's key for it, before the other nodes copy ssh/
    await createServer(
      a.db.sql,
      { name: "web2", address: a.sshd!.host, sshPort: a.sshd!.port, poolIp: POOL_IP },
      "test",
      "127.0.46.0/29",
    );
    await createPolicy(a.db.sql, {
      user: "wendy",
      server: "web2",
      validFrom: new Date(Date.now() - 60_000),
      validUntil: new Date(Date.now() + 3_600_000),
    }, "test");
    const web2Key = await makeKey(join(a.dataDir, "ssh", "backend_keys"), "web2");
    await Deno.writeTextFile(join(a.sshd!.dir, "authorized", a.sshd!.user), web2Key.pub + "\n", {
      append: true,
    });
    for (const [i, host] of NODES.slice(1).entries()) {
      const n = await startServeEnv({
        db: a.db,
        withSsh: false,
        host,
        env: { ...common, JUMPHOST_NODE_ID: `node-${i + 2}` },
        prepareDataDir: async (dir) => {
          const cp = await new Deno.Command("cp", { args: ["-a", join(a.dataDir, "ssh"), dir] }).output();
          assert.ok(cp.success, new TextDecoder().decode(cp.stderr));
        },
      });
      envs.push(n);
    }
    for (const n of envs.slice(1)) await n.serve.waitFor(/"msg":"ready"/, 60_000);

    const port = freePort(SERVICE);
    const impostorPort = freePort(SERVICE);
    haproxy = await startHaproxy([
      {
        name: "ssh",
        bind: [`${SERVICE}:${port}`, `${POOL_IP}:${port}`],
        to: envs.map((n, i) => `${NODES[i]}:${n.ports.ssh}`),
        sendProxyV2: true,
        check: true,
        source: BALANCER,
      },
      {
        name: "impostor",
        bind: [`${SERVICE}:${impostorPort}`],
        to: `${NODES[0]}:${a.ports.ssh}`,
        sendProxyV2: true,
        source: IMPOSTOR,
      },
    ]);
    // every node up in the balancer's health checks
    await new Promise((r) => setTimeout(r, 1500));

    // six logins through the balancer: round robin puts two on each node, all as the client's own address
    for (let i = 0; i < 6; i++) {
      const r = await ssh(a.client, port, SERVICE, a.target, [`echo via-balancer-${i}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `via-balancer-${i}\n`);
    }
    const rows = await waitFor("six closed sessions", async () => {
      const r = await a.db.sql<{ node_id: string; source_ip: string; is_active: boolean }[]>`
        SELECT node_id, host(source_ip) AS source_ip, is_active FROM sessions WHERE server_name = 'web1'`;
      return r.length === 6 && r.every((x) => !x.is_active) ? r : null;
    });
    assert.deepEqual([...new Set(rows.map((r) => r.node_id))].sort(), ["node-1", "node-2", "node-3"]);
    assert.deepEqual([...new Set(rows.map((r) => r.source_ip))], [a.client.bind]);
    const granted = await a.db.sql<{ source_ip: string }[]>`
      SELECT DISTINCT host(source_ip) AS source_ip FROM audit_log WHERE action = 'ssh.access_granted'`;
    assert.deepEqual(granted.map((g) => g.source_ip), [a.client.bind], "audited with the client's address");

    // a pool IP dialled on the balancer: the header's destination routes to web2, on any node
    for (let i = 0; i < 3; i++) {
      const r = await ssh(a.client, port, POOL_IP, a.sshd!.user, ["echo pooled"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "pooled\n");
    }
    const pooled = await waitFor("three web2 sessions", async () => {
      const r = await a.db.sql<{ node_id: string; proxy_ip: string }[]>`
        SELECT node_id, host(proxy_ip) AS proxy_ip FROM sessions WHERE server_name = 'web2' AND NOT is_active`;
      return r.length === 3 ? r : null;
    });
    assert.deepEqual([...new Set(pooled.map((r) => r.proxy_ip))], [POOL_IP]);
    assert.equal(new Set(pooled.map((r) => r.node_id)).size, 3, "each node routed the pool IP");

    // a header from a sender outside proxy_protocol_from: refused, audited with the sender's address
    const bad = await ssh(a.client, impostorPort, SERVICE, a.target, ["echo no"]);
    assert.equal(bad.code, 255);
    await waitFor(
      "the impostor's refusal in the audit log",
      async () =>
        (await a.db.sql`SELECT 1 FROM audit_log WHERE host(source_ip) = ${IMPOSTOR} AND NOT success`).length >
          0,
    );

    // a long session through the balancer, on some node; kill -9 that node
    const c = await clientArgs(a.client);
    long = new Deno.Command("ssh", {
      args: [...c.args, "-p", String(port), "-l", a.target, SERVICE, "echo up; sleep 600"],
      env: c.env,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = long.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /up/);
    const [{ node_id: victim, session_id: sid }] = await a.db.sql<{ node_id: string; session_id: string }[]>`
      SELECT node_id, session_id FROM sessions WHERE is_active`;
    const dead = envs[Number(victim.slice(-1)) - 1];
    const killedAt = Date.now();
    Deno.kill(dead.serve.child.pid, "SIGKILL");
    await dead.serve.child.status;
    const lost = await waitFor("node_lost", async () => {
      const [r] = await a.db.sql<{ termination_reason: string | null }[]>`
        SELECT termination_reason FROM sessions WHERE session_id = ${sid}`;
      return r.termination_reason === "node_lost" ? r : null;
    }, 45_000);
    assert.equal(lost.termination_reason, "node_lost");
    const lostMs = Date.now() - killedAt;
    assert.ok(lostMs < 40_000, `declared lost after ${lostMs} ms`);
    reader.releaseLock();
    try {
      long.kill("SIGKILL");
    } catch (_e) {
      // the balancer may have closed it already
    }
    await long.status;
    await long.stdout.cancel().catch(() => {});
    long = null;
    // the balancer has taken the dead node out: every reconnect lands on a living node
    for (let i = 0; i < 4; i++) {
      const r = await ssh(a.client, port, SERVICE, a.target, ["echo again"]);
      assert.equal(r.code, 0, r.stderr);
    }
    const after = await a.db.sql<{ node_id: string }[]>`
      SELECT DISTINCT node_id FROM sessions WHERE started_at > to_timestamp(${
      killedAt / 1000
    }) AND server_name = 'web1'
        AND session_id <> ${sid}`;
    assert.ok(after.length >= 1 && after.every((r) => r.node_id !== victim), JSON.stringify(after));
    console.log(`node ${victim} declared lost ${lostMs} ms after kill -9`);
  } finally {
    if (long) {
      try {
        long.kill("SIGKILL");
      } catch (_e) { /* gone */ }
      await long.status;
    }
    await haproxy?.stop();
    for (const n of envs.slice(1).reverse()) await n.close().catch(() => {});
    await envs[0]?.close();
    await Deno.remove(shared, { recursive: true }).catch(() => {});
  }
});
