// Three appliances on one database against one (issue 19), side by side in one run, loopback only:
// `jumphost serve` nodes sharing one PostgreSQL, a real sshd, the OpenSSH client. Measured per phase:
// session setup (`ssh … true`, the whole login: key exchange, decision, backend login, session and audit rows)
// p50/p95, and the policy decision latency from the nodes' /metrics histograms.
//   deno run -A bench/cluster/bench_cluster.ts        # writes bench/cluster/RESULTS.md
// Knobs: CLUSTER_N (logins per phase, default 60), CLUSTER_PARALLEL (at once, default 6).
import { join } from "node:path";
import { type ServeEnv, startServeEnv } from "../../tests/helpers/serve_env.ts";
import { ssh } from "../../tests/helpers/ssh_clients.ts";

const N = Number(Deno.env.get("CLUSTER_N") ?? 60);
const PARALLEL = Number(Deno.env.get("CLUSTER_PARALLEL") ?? 6);
const HOSTS = ["127.0.0.31", "127.0.0.32", "127.0.0.33"];
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** N logins spread over `nodes`, PARALLEL at a time; the time of each */
async function logins(a: ServeEnv, nodes: ServeEnv[]): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < N) {
      const i = next++;
      const node = nodes[i % nodes.length];
      const host = HOSTS[nodes === one ? 0 : i % nodes.length];
      const t0 = performance.now();
      const r = await ssh(a.client, node.ports.ssh, host, a.target, ["true"]);
      if (r.code !== 0) throw new Error(`login via ${host} failed: ${r.stderr}`);
      times.push(performance.now() - t0);
    }
  }));
  return times;
}

/** decisions counted and the 99th percentile's bucket bound (ms), summed over the nodes' histograms */
async function decisions(nodes: ServeEnv[], hosts: string[]): Promise<Map<number, number>> {
  const sum = new Map<number, number>();
  for (const [i, n] of nodes.entries()) {
    const text = await (await fetch(`http://${hosts[i]}:${n.ports.web}/metrics`)).text();
    for (const line of text.split("\n")) {
      const m = /^jumphost_decision_duration_seconds_bucket\{.*protocol="ssh".*le="([^"]+)"\} (\S+)$/.exec(
        line,
      );
      if (m) {
        const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
        sum.set(le, (sum.get(le) ?? 0) + Number(m[2]));
      }
    }
  }
  return sum;
}

function p99Between(before: Map<number, number>, after: Map<number, number>): { count: number; p99: string } {
  const les = [...after.keys()].sort((x, y) => x - y);
  const d = les.map((le) => [le, (after.get(le) ?? 0) - (before.get(le) ?? 0)] as const);
  const count = d.at(-1)?.[1] ?? 0;
  const at = d.find(([, c]) => c >= 0.99 * count);
  return { count, p99: !at ? "–" : at[0] === Infinity ? "> 100 ms" : `≤ ${at[0] * 1000} ms` };
}

const startLoad = load();
const shared = await Deno.makeTempDir({ prefix: "jh-bench-cluster-" });
const common = { JUMPHOST_RECORDINGS_DIR: shared };
const a = await startServeEnv({ host: HOSTS[0], env: { ...common, JUMPHOST_NODE_ID: "node-1" } });
const one = [a];
const all: ServeEnv[] = [a];
const rows: string[] = [];
try {
  await a.serve.waitFor(/"msg":"ready"/, 60_000);
  for (const [i, host] of HOSTS.slice(1).entries()) {
    const n = await startServeEnv({
      db: a.db,
      withSsh: false,
      host,
      env: { ...common, JUMPHOST_NODE_ID: `node-${i + 2}` },
      prepareDataDir: async (dir) => {
        const cp = await new Deno.Command("cp", { args: ["-a", join(a.dataDir, "ssh"), dir] }).output();
        if (!cp.success) throw new Error("cp ssh/ failed");
      },
    });
    all.push(n);
  }
  for (const n of all.slice(1)) await n.serve.waitFor(/"msg":"ready"/, 60_000);
  await logins(a, one); // warm-up of every path (JIT, connections to the database)
  await logins(a, all);
  // interleaved: one node, three nodes, one node, three nodes
  const res: Record<string, { times: number[]; dec: { count: number; p99: string }[] }> = {
    "one node": { times: [], dec: [] },
    "three nodes": { times: [], dec: [] },
  };
  for (let round = 0; round < 2; round++) {
    for (const [label, nodes] of [["one node", one], ["three nodes", all]] as const) {
      const hosts = nodes === one ? [HOSTS[0]] : HOSTS;
      // the SSH workers report their metrics to serve every 5 s: settle before each scrape
      await new Promise((r) => setTimeout(r, 5500));
      const before = await decisions(nodes, hosts);
      res[label].times.push(...await logins(a, nodes));
      await new Promise((r) => setTimeout(r, 5500));
      res[label].dec.push(p99Between(before, await decisions(nodes, hosts)));
    }
  }
  for (const [label, r] of Object.entries(res)) {
    rows.push(
      `| ${label} | ${r.times.length} | ${pct(r.times, 0.5).toFixed(0)} | ${
        pct(r.times, 0.95).toFixed(0)
      } | ${r.dec.map((d) => `${d.p99} (${d.count})`).join(", ")} |`,
    );
  }
} finally {
  for (const n of all.slice(1).reverse()) await n.close().catch(() => {});
  await a.close();
  await Deno.remove(shared, { recursive: true }).catch(() => {});
}

const md = `# Several nodes on one database

Produced by \`deno run -A bench/cluster/bench_cluster.ts\` (root; loopback only). Run of ${
  new Date().toISOString().slice(0, 16).replace("T", " ")
} UTC on a 2-core VM (load average ${startLoad} at the start, ${load()} at the end). Three \`jumphost serve\`
nodes on 127.0.0.31–33 share one PostgreSQL 15, a real sshd and a recordings directory; ${N} OpenSSH logins
(\`ssh … true\`: key exchange, policy decision, backend login, session and audit rows, recording) per phase,
${PARALLEL} at a time, through node 1 alone or spread over the three; the phases alternate twice. The decision
latency comes from the nodes' \`jumphost_decision_duration_seconds\` histograms (the bound of the bucket holding
the 99th percentile, per phase).

| phase | logins | setup p50, ms | setup p95, ms | decision p99 per phase (decisions) |
| --- | --- | --- | --- | --- |
${rows.join("\n")}

All nodes run on the same two cores here, so three nodes cannot add capacity in this measurement: it shows that
sharing one database costs a login nothing measurable (decisions are in memory on each node, from the policy
snapshot every node loads and refreshes on NOTIFY).
`;
console.log(md);
const out = new URL("./RESULTS.md", import.meta.url);
await Deno.writeTextFile(out, md);
await new Deno.Command(Deno.execPath(), { args: ["fmt", out.pathname] }).output();
