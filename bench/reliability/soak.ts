// Sustained load (issue 20): the real `jumphost serve` (SSH and RDP workers, recording on, external
// PostgreSQL) carries SOAK_SSH concurrent SSH sessions running exec loops (a line a second) on a real sshd (light npm:ssh2
// clients in SOAK_PROCS processes, real keys) and SOAK_RDP RDP sessions replaying a captured
// xfreerdp ↔ freerdp-shadow session (bench/rdp/peers.ts) with the backend streaming bitmap updates, for
// SOAK_MINUTES. Measured: sessions dropped, serve's RSS over time (minute 2 against the end), policy decision
// latency p99 (serve's /metrics histogram), and a newcomer's OpenSSH setup (`ssh … true`) p95 before and
// during the load.
//   deno run -A bench/reliability/soak.ts                 # 1000 SSH + 100 RDP for 10 minutes; updates RESULTS.md
//   SOAK_MINUTES=1 SOAK_SSH=100 SOAK_RDP=10 SOAK_WRITE=0 deno run -A bench/reliability/soak.ts   # a quick look
import { join } from "node:path";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { encodeFastPathInput } from "../../proxy/rdp/pdu/mod.ts";
import { loadOrCreateCertificate } from "../../proxy/rdp/tls.ts";
import { makeKey, startSshd } from "../../tests/helpers/sshd.ts";
import { ssh } from "../../tests/helpers/ssh_clients.ts";
import { startServeEnv } from "../../tests/helpers/serve_env.ts";
import { type BackendConn, type ClientConn, connectClient, loadScript, startBackend } from "../rdp/peers.ts";

const MINUTES = Number(Deno.env.get("SOAK_MINUTES") ?? 10);
const N_SSH = Number(Deno.env.get("SOAK_SSH") ?? 1000);
const N_RDP = Number(Deno.env.get("SOAK_RDP") ?? 100);
const PROCS = Number(Deno.env.get("SOAK_PROCS") ?? 4);
/** bitmap updates per second each RDP backend sends (8 KB each): a busy desktop */
const RDP_RATE = Number(Deno.env.get("SOAK_RDP_RATE") ?? 2);
const KEY_STREAM_RATE = 0x3c;
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;

// raise our own limits: thousands of sockets in this process, its children and serve
try {
  await new Deno.Command("prlimit", { args: ["--pid", String(Deno.pid), "--nofile=65536:65536"] }).output();
} catch (_e) {
  // prlimit missing: the inherited limit applies
}

const dir = await Deno.makeTempDir({ prefix: "jh-soak-" });
const startLoad = load();
const sshd = await startSshd({ maxStartups: 4000 });
const client = await makeKey(dir, "client");
const script = await loadScript();
const material = await loadOrCreateCertificate({ dataDir: join(dir, "rdp-backend") });
const rdpServed = new Set<BackendConn>();
const backend = await startBackend(script, material, (c) => {
  rdpServed.add(c);
  let timer: ReturnType<typeof setInterval> | undefined;
  c.socket.on("close", () => {
    clearInterval(timer);
    rdpServed.delete(c);
  });
  c.reader.onFrame((f) => {
    const k = f.kind === "fastpath" && f.bytes.length >= 4 && f.bytes[2] >> 5 === 0 ? f.bytes[3] : -1;
    if (k === KEY_STREAM_RATE && !timer) {
      timer = setInterval(() => c.socket.write(script.bitmap), 1000 / RDP_RATE);
    }
  });
});

const env = await startServeEnv({
  withSsh: false,
  host: "0.0.0.0",
  env: { JUMPHOST_IP_POOL: "127.0.0.0/29" },
  setup: async (db) => {
    const until = new Date(Date.now() + (MINUTES + 60) * 60_000);
    await createUser(
      db.sql,
      { name: "soak", sourceIps: [{ cidr: "127.0.8.0/24" }], sshKeys: [client.pub] },
      "soak",
    );
    await createServer(
      db.sql,
      { name: "web1", address: sshd.host, sshPort: sshd.port, poolIp: "none" },
      "soak",
      null,
    );
    await createPolicy(
      db.sql,
      { user: "soak", server: "web1", validFrom: new Date(), validUntil: until },
      "soak",
    );
    await createUser(db.sql, { name: "rdpsoak", sourceIps: [{ cidr: "127.0.9.0/24" }] }, "soak");
    await createServer(
      db.sql,
      { name: "win1", address: "127.0.0.1", rdpPort: backend.port, protocols: ["rdp"], poolIp: "127.0.0.5" },
      "soak",
      "127.0.0.0/29",
    );
    await createPolicy(
      db.sql,
      { user: "rdpsoak", server: "win1", validFrom: new Date(), validUntil: until },
      "soak",
    );
  },
  prepareDataDir: async (dataDir) => {
    const keys = join(dataDir, "ssh", "backend_keys");
    await Deno.mkdir(keys, { recursive: true, mode: 0o700 });
    const appliance = await makeKey(keys, "web1");
    await Deno.writeTextFile(join(sshd.dir, "authorized", sshd.user), appliance.pub + "\n", { append: true });
  },
});
const target = `${sshd.user}@web1`;
const servePid = env.serve.child.pid;

function procStat(pid: number) {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
  return { ticks, rss };
}

/** a newcomer: OpenSSH from its own address, the whole `ssh … true` (setup, decision, backend, exit) */
async function newcomer(i: number): Promise<number> {
  const t0 = performance.now();
  const r = await ssh(
    { bind: `127.0.8.${240 + (i % 10)}`, key: client.path },
    env.ports.ssh,
    "127.0.0.1",
    target,
    [
      "true",
    ],
  );
  if (r.code !== 0) throw new Error(`newcomer ssh failed (${r.code}): ${r.stderr.slice(0, 300)}`);
  return performance.now() - t0;
}

async function metricsText(): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${env.ports.web}/metrics`)).text();
}

/** p99 of the decision histogram per protocol: the upper bound of the bucket holding the 99th percentile */
function decisionP99(text: string): Record<string, { count: number; p99: string }> {
  const out: Record<string, { count: number; p99: string }> = {};
  const buckets = new Map<string, [number, number][]>();
  for (const line of text.split("\n")) {
    const m = /^jumphost_decision_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const proto = /protocol="(\w+)"/.exec(m[1])?.[1] ?? "?";
    const le = /le="([^"]+)"/.exec(m[1])![1];
    const list = buckets.get(proto) ?? [];
    list.push([le === "+Inf" ? Infinity : Number(le), Number(m[2])]);
    buckets.set(proto, list);
  }
  for (const [proto, list] of buckets) {
    list.sort((a, b) => a[0] - b[0]);
    const count = list.at(-1)![1];
    const at = list.find(([, c]) => c >= 0.99 * count)!;
    out[proto] = { count, p99: at[0] === Infinity ? "> 0.1 s" : `≤ ${at[0] * 1000} ms` };
  }
  return out;
}

const rdp: ClientConn[] = [];
let rdpBytes = 0;
let rdpDropped = 0;
let stopping = false;
const children: Deno.ChildProcess[] = [];
const results: Record<string, string | number> = {};
try {
  await env.serve.waitFor(/"msg":"ready"/, 90_000);
  const idleRss = procStat(servePid).rss;
  const idleSetup: number[] = [];
  for (let i = 0; i < 10; i++) idleSetup.push(await newcomer(i));

  // RDP: 10 at a time, each from its own address, each backend streaming updates
  const rdpT0 = Date.now();
  for (let i = 0; i < N_RDP; i += 10) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(10, N_RDP - i) },
        (_, j) => connectClient(script, "127.0.0.5", env.ports.rdp, `127.0.9.${1 + i + j}`),
      ),
    );
    for (const c of batch) {
      c.reader.onFrame((f) => (rdpBytes += f.bytes.length));
      c.socket.on("close", () => {
        if (!stopping) rdpDropped++;
      });
      c.socket.write(encodeFastPathInput([{
        type: "scancode",
        keyCode: KEY_STREAM_RATE,
        release: false,
        extended: false,
        extended1: false,
      }]));
      rdp.push(c);
    }
  }
  const rdpRampMs = Date.now() - rdpT0;

  // SSH: PROCS client processes, each from 20 addresses of its own
  const sshT0 = Date.now();
  const per = Math.ceil(N_SSH / PROCS);
  const outputs: ReadableStreamDefaultReader<string>[] = [];
  for (let p = 0; p < PROCS; p++) {
    const count = Math.min(per, N_SSH - p * per);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./soak_ssh_clients.ts", import.meta.url).pathname],
      env: {
        SOAK_CLIENT: JSON.stringify({
          port: env.ports.ssh,
          key: client.path,
          user: target,
          binds: Array.from({ length: 20 }, (_, k) => `127.0.8.${1 + p * 20 + k}`),
          count,
          parallel: 6,
        }),
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(child);
    outputs.push(child.stdout.pipeThrough(new TextDecoderStream()).getReader());
  }
  const lineOf = async (r: ReadableStreamDefaultReader<string>) => {
    let buf = "";
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) return JSON.parse(buf.slice(0, nl));
      const { value, done } = await r.read();
      if (done) throw new Error("a client process ended early");
      buf += value;
    }
  };
  const ready = await Promise.all(outputs.map(lineOf));
  const sshUp = ready.reduce((a, r) => a + r.ready, 0);
  const sshFailed = ready.reduce((a, r) => a + r.failed, 0);
  const sshRampMs = Date.now() - sshT0;
  console.error(
    `ramp: ${sshUp} SSH up (${sshFailed} failed: ${ready.flatMap((r) => r.errors).join("; ")}), ` +
      `${rdp.length} RDP up; load ${load()}`,
  );
  const enc = new TextEncoder();
  const writers = children.map((c) => c.stdin.getWriter());
  for (const w of writers) await w.write(enc.encode("load\n"));

  // the load phase: RSS every 5 s, a newcomer every 15 s
  const t0 = Date.now();
  const rss: { min: number; rss: number }[] = [];
  const loadSetup: number[] = [];
  const cpu0 = procStat(servePid).ticks;
  const rdpBytes0 = rdpBytes;
  let n = 0;
  let lastNewcomer = 0;
  while (Date.now() - t0 < MINUTES * 60_000) {
    await sleep(5_000);
    const min = (Date.now() - t0) / 60_000;
    rss.push({ min, rss: procStat(servePid).rss });
    if (Date.now() - lastNewcomer >= 15_000) {
      lastNewcomer = Date.now();
      loadSetup.push(await newcomer(n++));
    }
  }
  const wall = (Date.now() - t0) / 1000;
  const cpuPct = ((procStat(servePid).ticks - cpu0) / 100 / wall) * 100;
  const [{ active }] = await env.db.sql<
    { active: number }[]
  >`SELECT count(*)::int AS active FROM sessions WHERE is_active`;
  const rdpRate = (rdpBytes - rdpBytes0) / wall;
  for (const w of writers) await w.write(enc.encode("stop\n"));
  const finals = await Promise.all(outputs.map(lineOf));
  stopping = true;
  const r = finals.map((f) => f.result);
  const sshDropped = r.reduce((a, x) => a + x.dropped + x.silent, 0);
  const metrics = await metricsText();
  const p99 = decisionP99(metrics);
  const at = (m: number) =>
    rss.reduce((best, s) => Math.abs(s.min - m) < Math.abs(best.min - m) ? s : best).rss;
  const rss2 = at(Math.min(2, MINUTES)), rssEnd = rss.at(-1)!.rss;
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  Object.assign(results, {
    "SSH sessions up / asked": `${sshUp} / ${N_SSH}` + (sshFailed ? ` (${sshFailed} failed)` : ""),
    "SSH ramp (all up), s": (sshRampMs / 1000).toFixed(1),
    "RDP sessions up / asked": `${rdp.length} / ${N_RDP}`,
    "RDP ramp, s": (rdpRampMs / 1000).toFixed(1),
    "load phase, minutes": MINUTES,
    "sessions active in the database at the end": active,
    "SSH sessions dropped or silent > 5 s": sshDropped,
    "SSH longest silence of a session, s": (Math.max(...r.map((x) => x.maxGapMs)) / 1000).toFixed(1),
    "SSH lines received": r.reduce((a, x) => a + x.lines, 0),
    "RDP sessions dropped": rdpDropped,
    "RDP updates relayed, MB/s (offered)": `${(rdpRate / 1e6).toFixed(2)} (${
      (rdp.length * RDP_RATE * script.bitmap.length / 1e6).toFixed(2)
    })`,
    "serve RSS idle, MiB": mb(idleRss),
    [`serve RSS at minute ${Math.min(2, MINUTES)}, MiB`]: mb(rss2),
    "serve RSS at the end, MiB": mb(rssEnd),
    "RSS growth minute 2 → end": `${((rssEnd / rss2 - 1) * 100).toFixed(1)} %`,
    "serve CPU during the load (of one core)": `${cpuPct.toFixed(0)} %`,
    "decision latency p99, SSH (decisions)": p99.ssh ? `${p99.ssh.p99} (${p99.ssh.count})` : "none",
    "decision latency p99, RDP (decisions)": p99.rdp ? `${p99.rdp.p99} (${p99.rdp.count})` : "none",
    "newcomer `ssh … true` idle p50 / p95, ms": `${pct(idleSetup, 0.5).toFixed(0)} / ${
      pct(idleSetup, 0.95).toFixed(0)
    }`,
    "newcomer `ssh … true` under load p50 / p95, ms (runs)": `${pct(loadSetup, 0.5).toFixed(0)} / ${
      pct(loadSetup, 0.95).toFixed(0)
    } (${loadSetup.length})`,
  });
  if (r.some((x) => x.dropReasons.length)) {
    results["SSH drop reasons"] = r.flatMap((x) => x.dropReasons).join("; ");
  }
} finally {
  stopping = true;
  for (const c of rdp) c.socket.destroy();
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch (_e) {
      // already gone
    }
    await c.status;
  }
  await env.close();
  await backend.close();
  await sshd.stop();
  await Deno.remove(dir, { recursive: true });
}

const md = `## Sustained load (${MINUTES} minutes, ${N_SSH} SSH + ${N_RDP} RDP sessions)

Produced by \`deno run -A bench/reliability/soak.ts\` (root; loopback only). Run of ${
  new Date().toISOString().slice(0, 16).replace("T", " ")
} UTC; load average ${startLoad} at the start, ${load()} at the end (2-core VM). The real \`jumphost serve\`
(SSH and RDP workers, recording on, external PostgreSQL 15) carries ${N_SSH} SSH sessions, each running an exec
loop (a perl one-liner printing a line a second) on a real OpenSSH sshd, opened by light npm:ssh2 clients with real keys in ${PROCS}
processes, and ${N_RDP} RDP sessions replaying a captured xfreerdp ↔ freerdp-shadow session
(\`bench/rdp/peers.ts\`) with each backend streaming ${RDP_RATE} bitmap updates of 8 KB per second, everything
recorded. A newcomer runs OpenSSH \`ssh … true\` every 15 s during the load (10 times before it, idle).

| figure | value |
| --- | --- |
${Object.entries(results).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}
`;
console.log(md);
if (Deno.env.get("SOAK_WRITE") !== "0") {
  const out = new URL(Deno.env.get("REL_OUT") ?? "./RESULTS.md", import.meta.url);
  let text = await Deno.readTextFile(out).catch(() => "");
  const at = text.indexOf("## Sustained load");
  const next = at < 0 ? -1 : text.indexOf("\n## ", at + 1);
  text = at < 0
    ? text.trimEnd() + "\n\n" + md
    : text.slice(0, at) + md + (next < 0 ? "" : text.slice(next + 1));
  await Deno.writeTextFile(out, text);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", out.pathname] }).output();
}
