// 10,000 concurrent idle SSH sessions through the proxy (issue 16): every session is a real SSH login with a
// real key from its own source address (127.1.x.y), a policy decision, a session row, a recording and a PTY +
// shell channel on a backend, then stays idle. Measured on the proxy process alone (bench/ssh/proxy_process.ts):
// sessions that succeed, ramp time, RSS before and after (KiB per session), idle CPU over IDLE_S seconds.
// Clients are npm:ssh2 connections, IDLE_PROCS processes (idle_clients.ts); backends are light ssh2 servers
// (idle_backend.ts), two of them, because 10,000 OpenSSH sessions do not fit in this machine's memory.
//   deno run -A bench/ssh/bench_idle.ts            # 10,000 sessions (~10 min)
//   IDLE_N=1000 deno run -A bench/ssh/bench_idle.ts
import { join } from "node:path";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { freePort, makeKey, waitForPort } from "../../tests/helpers/sshd.ts";

const N = Number(Deno.env.get("IDLE_N") ?? 10_000);
const PROCS = Number(Deno.env.get("IDLE_PROCS") ?? 4);
const PARALLEL = Number(Deno.env.get("IDLE_PARALLEL") ?? 6); // setups in flight per client process
const IDLE_S = Number(Deno.env.get("IDLE_S") ?? 60);
// This machine caps every process at 20,000 descriptors (hard limit; root may not raise it here) and a session
// holds two sockets in the proxy (its recording's descriptor is given back when idle: recorder/idle_file.ts),
// so 10,000 sessions are spread over two proxy processes on one PostgreSQL, as two appliance nodes would
// carry them; RSS and CPU are their sums.
const SETTLE_S = Number(Deno.env.get("IDLE_SETTLE_S") ?? 60);
const PROXIES = Number(Deno.env.get("IDLE_PROXIES") ?? (N > 9_000 ? 2 : 1));
const PROXY_DENO_FLAGS = (Deno.env.get("PROXY_DENO_FLAGS") ?? "").split(" ").filter(Boolean);
const HERE = new URL(".", import.meta.url).pathname;
const log = (...a: unknown[]) => console.error(new Date().toISOString().slice(11, 19), ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// the bench raises its own limits (this process, and so its children): ~3 descriptors per session in the proxy
await new Deno.Command("prlimit", { args: ["--pid", String(Deno.pid), "--nofile=1048576:1048576"] }).output()
  .catch(() => {}); // refused here (see PROXIES below); where allowed, one proxy process can carry all

function procStat(pid: number) {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const cpuS = (Number(stat[11]) + Number(stat[12])) / 100;
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
  return { cpuS, rssKiB };
}

/** A child speaking JSON lines on stdout. */
function jsonChild(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const queue: unknown[] = [];
  const waiters: ((v: unknown) => void)[] = [];
  (async () => {
    let buf = "";
    for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += c;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let v: unknown = line;
        try {
          v = JSON.parse(line);
        } catch (_e) { /* READY */ }
        const w = waiters.shift();
        if (w) w(v);
        else queue.push(v);
      }
    }
  })();
  const writer = child.stdin.getWriter();
  return {
    child,
    next: () => queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)),
    send: (s: string) => writer.write(new TextEncoder().encode(s + "\n")),
  };
}

const dir = await Deno.makeTempDir({ prefix: "jh-idle-" });
const db = await createTestDb();
const client = await makeKey(dir, "client");
const hostKey = await makeKey(dir, "backend_host");
const data = join(dir, "proxy-data");
const keys = join(data, "ssh", "backend_keys");
await Deno.mkdir(keys, { recursive: true, mode: 0o700 });
const appliance = await makeKey(keys, "b0");
await Deno.copyFile(appliance.path, join(keys, "b1"));
await Deno.writeTextFile(join(keys, "b0.pub"), appliance.pub + "\n");

const children: Deno.ChildProcess[] = [];
const results: Record<string, unknown> = { sessions: N, client_procs: PROCS, deno: Deno.version.deno };
try {
  const backends = [];
  for (let i = 0; i < 2; i++) {
    const port = freePort();
    const b = jsonChild(["run", "-A", join(HERE, "idle_backend.ts")], {
      IDLE_BACKEND: JSON.stringify({ port, hostKey: hostKey.path, authorized: appliance.path + ".pub" }),
    });
    children.push(b.child);
    await b.next();
    backends.push({ port });
  }
  await createUser(
    db.sql,
    { name: "bench", sourceIps: [{ cidr: "127.1.0.0/16" }], sshKeys: [client.pub] },
    "b",
  );
  for (let i = 0; i < 2; i++) {
    await createServer(
      db.sql,
      { name: `b${i}`, address: "127.0.0.1", sshPort: backends[i].port, poolIp: "none" },
      "bench",
      null,
    );
    await createPolicy(db.sql, {
      user: "bench",
      server: `b${i}`,
      validFrom: new Date(Date.now() - 60_000),
      validUntil: new Date(Date.now() + 86_400_000),
    }, "bench");
  }

  const proxies: { pid: number; port: number }[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const port = freePort();
    const proxy = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...PROXY_DENO_FLAGS, join(HERE, "proxy_process.ts")],
      env: {
        BENCH_DB_URL: db.url,
        BENCH_LISTEN: `0.0.0.0:${port}`,
        BENCH_DATA: data,
        BENCH_RECORDINGS: join(data, "recordings"),
        ...(Deno.env.get("BENCH_KEEPALIVE_MS")
          ? { BENCH_KEEPALIVE_MS: Deno.env.get("BENCH_KEEPALIVE_MS")! }
          : {}),
      },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    children.push(proxy);
    proxies.push({ pid: proxy.pid, port });
  }
  for (const p of proxies) await waitForPort("127.0.0.1", p.port, 60_000);
  await sleep(1000);
  const stat = () => {
    const all = proxies.map((p) => procStat(p.pid));
    return { cpuS: all.reduce((a, x) => a + x.cpuS, 0), rssKiB: all.reduce((a, x) => a + x.rssKiB, 0) };
  };
  const fds = () => proxies.map((p) => [...Deno.readDirSync(`/proc/${p.pid}/fd`)].length);
  const fresh = stat();
  log("proxy fresh", fresh);

  // one source address per session: 127.1.a.b, b in 1..254
  const binds = Array.from({ length: N }, (_, i) => `127.1.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`);
  const t0 = performance.now();
  const clients = Array.from(
    { length: PROCS },
    (_, p) =>
      jsonChild(["run", "-A", join(HERE, "idle_clients.ts")], {
        IDLE_CLIENT: JSON.stringify({
          port: proxies[p % PROXIES].port,
          key: client.path,
          user: `jh@b${p % 2}`,
          binds: binds.filter((_, i) => i % PROCS === p),
          parallel: PARALLEL,
        }),
      }),
  );
  for (const c of clients) children.push(c.child);
  const sampler = setInterval(() => {
    const s = stat();
    log("ramp: proxy RSS", Math.round(s.rssKiB / 1024), "MiB, CPU", s.cpuS.toFixed(0), "s");
  }, 30_000);
  const ramped = (await Promise.all(clients.map((c) => c.next()))) as {
    open: number;
    failed: number;
    errors: Record<string, number>;
  }[];
  clearInterval(sampler);
  const rampS = (performance.now() - t0) / 1000;
  const afterRamp = stat();
  const open = ramped.reduce((a, r) => a + r.open, 0);
  const failed = ramped.reduce((a, r) => a + r.failed, 0);
  log("ramped", { open, failed, rampS, errors: ramped.map((r) => r.errors) });
  // settle first: V8 shrinks the heap grown by the ramp with a few full collections once the process is idle
  await sleep(SETTLE_S * 1000);
  const idle0 = stat();
  await sleep(IDLE_S * 1000);
  const idle1 = stat();
  const descriptors = fds();
  for (const c of clients) await c.send("check");
  const checks = (await Promise.all(clients.map((c) => c.next()))) as { open: number; lost: number }[];
  const [{ n: activeRows }] = await db.sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM sessions WHERE is_active`;
  Object.assign(results, {
    connected: open,
    failed,
    ramp_s: rampS,
    ramp_proxy_cpu_ms_per_session: (afterRamp.cpuS - fresh.cpuS) * 1000 / Math.max(1, open),
    proxy_rss_fresh_mib: fresh.rssKiB / 1024,
    proxy_rss_mib: idle1.rssKiB / 1024,
    kib_per_session: (idle1.rssKiB - fresh.rssKiB) / Math.max(1, open),
    idle_cpu_pct: (idle1.cpuS - idle0.cpuS) / IDLE_S * 100,
    idle_s: IDLE_S,
    settle_s: SETTLE_S,
    still_open_after_idle: checks.reduce((a, c) => a + c.open, 0),
    lost_during_idle: checks.reduce((a, c) => a + c.lost, 0),
    active_rows: activeRows,
    proxy_processes: PROXIES,
    proxy_descriptors: descriptors,
    load_after: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  });
  console.log(JSON.stringify(results, null, 2));
  for (const c of clients) await c.send("stop");
  await Promise.all(clients.map((c) => c.next()));
} finally {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch (_e) { /* gone */ }
  }
  await Promise.all(children.map((c) => c.status));
  await db.close();
  await Deno.remove(dir, { recursive: true });
}
