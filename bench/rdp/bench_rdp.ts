// RDP proxy benchmark: connection setup, input→update round-trip latency and bitmap throughput through
// the proxy (with recording) side by side with a direct connection, then 20/50/100 concurrent sessions
// streaming desktop updates while the proxy's RSS and CPU are sampled.
//   deno run -A bench/rdp/bench_rdp.ts [--quick]
import { join } from "node:path";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { encodeFastPathInput } from "../../proxy/rdp/pdu/mod.ts";
import { loadOrCreateCertificate } from "../../proxy/rdp/tls.ts";
import { freePort, waitForPort } from "../../tests/helpers/rdp_backend.ts";
import { createTestDb } from "../../tests/helpers/test_db.ts";
import {
  type BackendConn,
  type ClientConn,
  connectClient,
  loadScript,
  POINTER_POSITION,
  startBackend,
} from "./peers.ts";

const quick = Deno.args.includes("--quick");
const KEY_STREAM_BURST = 0x3b; // F1: send BURST bitmaps as fast as possible
const KEY_STREAM_RATE = 0x3c; // F2: send bitmaps at RATE per second until the connection ends
const BURST = Number(Deno.env.get("BENCH_RDP_BURST") ?? (quick ? 500 : 3000));
// BENCH_RDP_ONLY=throughput|rtt|setup|concurrent runs one part (for profiling)
const only = Deno.env.get("BENCH_RDP_ONLY");
const RATE = 10;
const key = (keyCode: number) =>
  encodeFastPathInput([{ type: "scancode", keyCode, release: false, extended: false, extended1: false }]);

const script = await loadScript();
const dir = await Deno.makeTempDir({ prefix: "jh-rdp-bench-" });
const material = await loadOrCreateCertificate({ dataDir: join(dir, "backend") });

function serve(c: BackendConn) {
  let timer: ReturnType<typeof setInterval> | undefined;
  c.socket.on("close", () => clearInterval(timer));
  c.reader.onFrame((f) => {
    if (f.kind !== "fastpath") return;
    const k = f.bytes.length >= 4 && f.bytes[2] >> 5 === 0 ? f.bytes[3] : -1;
    if (k === KEY_STREAM_BURST) {
      let i = 0;
      const pump = () => {
        while (i < BURST) {
          i++;
          if (!c.socket.write(script.bitmap)) return void c.socket.once("drain", pump);
        }
      };
      pump();
    } else if (k === KEY_STREAM_RATE) {
      timer = setInterval(() => c.socket.write(script.bitmap), 1000 / RATE);
    } else {
      c.socket.write(POINTER_POSITION);
    }
  });
}

const backend = await startBackend(script, material, serve);
const db = await createTestDb();
await createUser(db.sql, { name: "bench", sourceIps: [{ cidr: "127.0.0.0/8" }] }, "bench");
await createServer(
  db.sql,
  {
    name: "backend",
    address: "127.0.0.1",
    rdpPort: backend.port,
    protocols: ["rdp"],
    poolIp: "127.0.0.5",
  },
  "bench",
  "127.0.0.0/8",
);
await createPolicy(db.sql, {
  user: "bench",
  server: "backend",
  validFrom: new Date(Date.now() - 60_000),
  validUntil: new Date(Date.now() + 6 * 3_600_000),
}, "bench");
const proxyPort = await freePort("0.0.0.0");
const proxyProc = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    // e.g. PROXY_DENO_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the proxy
    ...(Deno.env.get("PROXY_DENO_FLAGS") ?? "").split(" ").filter(Boolean),
    new URL("./proxy_main.ts", import.meta.url).pathname,
    db.url,
    String(proxyPort),
    join(dir, "proxy"),
  ],
  stdout: "null",
  stderr: "inherit",
}).spawn();
await waitForPort("127.0.0.1", proxyPort, 30_000);

// the floor of any process in the path: a bare TCP relay (bench/ssh/tcp_relay.ts: no TLS, no parsing) in its
// own process. Direct has the client and the backend in this one process, without a wake-up between them.
const relayPort = await freePort("127.0.0.1");
const relayProc = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../ssh/tcp_relay.ts", import.meta.url).pathname,
    String(relayPort),
    String(backend.port),
  ],
  stdout: "null",
  stderr: "inherit",
}).spawn();
await waitForPort("127.0.0.1", relayPort, 30_000);

const targets = {
  direct: { host: "127.0.0.1", port: backend.port, pid: null },
  tcp_relay: { host: "127.0.0.1", port: relayPort, pid: relayProc.pid },
  proxied: { host: "127.0.0.5", port: proxyPort, pid: proxyProc.pid },
};
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const close = (c: ClientConn) => c.socket.destroy();
const results: Record<string, unknown> = { quick };

async function setupTimes(t: { host: string; port: number }) {
  const times: number[] = [];
  for (let i = 0; i < (quick ? 5 : 20); i++) {
    const c = await connectClient(script, t.host, t.port);
    times.push(c.setupMs);
    close(c);
  }
  return { p50: pct(times, 0.5), p90: pct(times, 0.9) };
}

async function roundTrips(t: { host: string; port: number }) {
  const c = await connectClient(script, t.host, t.port);
  const n = quick ? 300 : 2000;
  const rtts: number[] = [];
  const warmUp = quick ? 50 : 300; // JIT and caches on both paths: not measured
  for (let i = -warmUp; i < n; i++) {
    const t0 = performance.now();
    c.socket.write(script.input);
    await c.reader.next();
    if (i >= 0) rtts.push(performance.now() - t0);
  }
  close(c);
  return { p50: pct(rtts, 0.5), p99: pct(rtts, 0.99) };
}

/** Wait until the proxy is idle: a closed recording is hashed and indexed after the session. */
async function settle() {
  for (let i = 0; i < 50; i++) {
    const before = procStat(proxyProc.pid).ticks;
    await new Promise((r) => setTimeout(r, 200));
    if (procStat(proxyProc.pid).ticks - before <= 2) return;
  }
}

async function throughput(t: { host: string; port: number; pid: number | null }) {
  await settle();
  const c = await connectClient(script, t.host, t.port);
  const total = BURST * script.bitmap.length;
  const middle = t.pid ?? proxyProc.pid; // the process in the path (direct: the proxy, idle)
  const middleBefore = procStat(middle).ticks;
  const selfBefore = procStat(Deno.pid).ticks;
  const t0 = performance.now();
  c.socket.write(key(KEY_STREAM_BURST));
  let got = 0;
  while (got < total) got += (await c.reader.next()).bytes.length;
  const s = (performance.now() - t0) / 1000;
  // CPU share of each process during the transfer: which side is the bottleneck
  const share = (ticks: number) => Math.round(ticks / 100 / s * 100);
  const cpu = {
    peersPercent: share(procStat(Deno.pid).ticks - selfBefore),
    middlePercent: share(procStat(middle).ticks - middleBefore),
  };
  close(c);
  return { MBps: total / s / 1e6, frames: BURST, ...cpu };
}

function procStat(pid: number) {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  const rss = Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
  return { ticks, rss };
}

async function concurrent(k: number, seconds: number) {
  const conns: ClientConn[] = [];
  for (let i = 0; i < k; i++) {
    conns.push(
      await connectClient(
        script,
        "127.0.0.5",
        proxyPort,
        `127.0.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`,
      ),
    );
  }
  let received = 0;
  for (const c of conns) {
    c.reader.onFrame((f) => (received += f.bytes.length));
    c.socket.write(key(KEY_STREAM_RATE));
  }
  const before = procStat(proxyProc.pid);
  const t0 = performance.now();
  let peakRss = before.rss;
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, procStat(proxyProc.pid).rss);
  }
  const after = procStat(proxyProc.pid);
  const wall = (performance.now() - t0) / 1000;
  for (const c of conns) close(c);
  await new Promise((r) => setTimeout(r, 1500));
  return {
    sessions: k,
    cpuPercent: ((after.ticks - before.ticks) / 100 / wall) * 100,
    peakRssMB: peakRss / 1e6,
    deliveredMBps: received / wall / 1e6,
    expectedMBps: (k * RATE * script.bitmap.length) / 1e6,
  };
}

try {
  results.idleRssMB = procStat(proxyProc.pid).rss / 1e6;
  const want = (part: string) => only === undefined || only === part;
  for (const [name, t] of Object.entries(targets)) {
    results[name] = {
      setupMs: want("setup") ? await setupTimes(t) : null,
      inputRoundTripMs: want("rtt") ? await roundTrips(t) : null,
    };
  }
  if (want("throughput")) {
    // side by side: direct and proxied alternate, the median of each is reported
    const mbps: Record<string, number[]> = { direct: [], tcp_relay: [], proxied: [] };
    const cpu: Record<string, string[]> = { direct: [], tcp_relay: [], proxied: [] };
    for (let rep = 0; rep < (quick ? 2 : 3); rep++) {
      for (const [name, t] of Object.entries(targets)) {
        const r = await throughput(t);
        mbps[name].push(r.MBps);
        cpu[name].push(`peers ${r.peersPercent}%, in the path ${r.middlePercent}%`);
      }
    }
    for (const name of Object.keys(targets)) {
      (results[name] as Record<string, unknown>).bitmapThroughput = {
        MBps: pct(mbps[name], 0.5),
        runs: mbps[name].map((x) => Math.round(x)),
        cpu: cpu[name],
        frames: BURST,
      };
    }
    results.throughputRatio = pct(mbps.proxied, 0.5) / pct(mbps.direct, 0.5);
  }
  if (want("concurrent")) {
    const steps = [];
    const counts = (Deno.env.get("BENCH_RDP_SESSIONS") ?? "20,50,100").split(",").map(Number);
    for (const k of counts) steps.push(await concurrent(k, quick ? 5 : 15));
    results.concurrent = steps;
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  proxyProc.kill("SIGTERM");
  await proxyProc.status;
  relayProc.kill("SIGTERM");
  await relayProc.status;
  await backend.close();
  await db.close();
  await Deno.remove(dir, { recursive: true });
}
