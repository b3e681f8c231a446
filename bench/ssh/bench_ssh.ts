// SSH proxy benchmark, loopback only. Paths measured side by side in one run, interleaved:
//   direct  ssh → backend sshd
//   jump    ssh -J via a second OpenSSH sshd (forwards without decrypting: the ceiling for a jump host)
//   proxy   ssh → jumphost SSH proxy (its own process, recording on) → backend sshd
// Figures: connection setup (median of N), 256 MiB up/down (exec `cat` and scp/SFTP, tapped by the
// proxy), PTY output through the recorder, proxy CPU per GiB, and RSS/CPU with 500 idle sessions.
// Run with bench/ssh/run.sh (root: starts sshd and uses the test OS user).
// Quick mode for iterations (one 256 MiB exec upload + download, jump vs proxy, CPU per GiB of both):
//   BENCH_QUICK=1 bench/ssh/run.sh   (PROXY_DENO_FLAGS="--cpu-prof --cpu-prof-dir=…" profiles the proxy;
//   PROXY_SCRIPT=/other/checkout/bench/ssh/proxy_process.ts runs another version of it, for before/after)
import { join } from "node:path";
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { freePort, makeKey, startSshd, waitForPort } from "../../tests/helpers/sshd.ts";
import { createUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createPolicy } from "../../db/policies.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const E = (k: string, d: number) => Number(Deno.env.get(k) ?? d);
const SIZE_MB = E("BENCH_SIZE_MB", 256);
const REPS = E("BENCH_REPS", QUICK ? 1 : 3);
const SETUP_N = E("BENCH_SETUP_N", QUICK ? 3 : 20);
const CONC = E("BENCH_CONC", QUICK ? 0 : 500);
const INFLIGHT = E("BENCH_CONC_INFLIGHT", 32);
const PTY_MB = E("BENCH_PTY_MB", QUICK ? 0 : 64);
/** keystrokes for the echo round trip (one byte typed into a remote PTY, its echo read back) */
const ECHO_N = E("BENCH_ECHO_N", QUICK ? 0 : 500);
/** exec/scp kinds to run (comma-separated), default all */
const KINDS = (Deno.env.get("BENCH_KINDS") ?? (QUICK ? "upload_exec,download_exec" : "")).split(",").filter(
  Boolean,
);
const PROXY_DENO_FLAGS = Deno.env.get("PROXY_DENO_FLAGS") ?? "";
/** another checkout's proxy_process.ts, to compare two versions of the proxy under the same harness */
const PROXY_SCRIPT = Deno.env.get("PROXY_SCRIPT");
const HERE = new URL(".", import.meta.url).pathname;
const WORK = join(HERE, "work");
const SRC = `/dev/shm/jh-bench-src-${Deno.pid}`;
const BIND = "127.0.0.50";

type Path = "direct" | "jump" | "proxy";
/** the echo bench's extra path: a bare Deno TCP relay before the backend (tcp_relay.ts), Deno's own floor */
type EchoPath = Path | "deno_tcp";
const PATHS: Path[] = QUICK ? ["jump", "proxy"] : ["direct", "jump", "proxy"];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2)
    : NaN;
};
const log = (...a: unknown[]) => console.error("[bench]", ...a);

async function sh(cmd: string): Promise<{ code: number; ms: number; out: string; err: string }> {
  const t0 = performance.now();
  const o = await new Deno.Command("sh", { args: ["-c", cmd], stdout: "piped", stderr: "piped" }).output();
  return {
    code: o.code,
    ms: performance.now() - t0,
    out: new TextDecoder().decode(o.stdout),
    err: new TextDecoder().decode(o.stderr),
  };
}

function procCpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function hasChildren(pid: number): boolean {
  return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim() !== "";
}

/** CPU of the children a process has waited for (sshd -D reaps its per-connection processes) */
function procChildCpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[13]) + Number(f[14])) / 100; // cutime + cstime
}

function procRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

async function main() {
  await Deno.mkdir(WORK, { recursive: true });
  const db = await createTestDb();
  const client = await makeKey(await Deno.makeTempDir({ dir: WORK, prefix: "keys-" }), "client");
  const data = await Deno.makeTempDir({ dir: WORK, prefix: "proxy-data-" });
  await Deno.mkdir(join(data, "ssh", "backend_keys"), { recursive: true });
  const appliance = await makeKey(join(data, "ssh", "backend_keys"), "b");
  const backend = await startSshd({ authorizedKeys: [client.pub, appliance.pub], maxStartups: 4000 });
  const jump = await startSshd({ authorizedKeys: [client.pub], maxStartups: 4000 });
  let proxyChild: Deno.ChildProcess | null = null;
  const proxyPort = freePort();
  const results: Record<string, unknown> = { size_mib: SIZE_MB, reps: REPS, setup_n: SETUP_N };
  try {
    await createUser(
      db.sql,
      { name: "bench", sourceIps: [{ cidr: `${BIND}/32` }], sshKeys: [client.pub] },
      "bench",
    );
    await createServer(
      db.sql,
      { name: "b", address: backend.host, sshPort: backend.port, poolIp: "none" },
      "bench",
      null,
    );
    await createPolicy(db.sql, {
      user: "bench",
      server: "b",
      validFrom: new Date(Date.now() - 60_000),
      validUntil: new Date(Date.now() + 86_400_000),
    }, "bench");
    const recordings = join(data, "recordings");
    const startProxy = async () => {
      const child = new Deno.Command("sh", {
        // run.sh raised the open-file limit for us and our children (500 sessions need ~1100 descriptors)
        args: [
          "-c",
          `exec "${Deno.execPath()}" run -A ${PROXY_DENO_FLAGS} "${
            PROXY_SCRIPT ?? join(HERE, "proxy_process.ts")
          }"`,
        ],
        env: {
          BENCH_DB_URL: db.url,
          BENCH_LISTEN: `127.0.0.1:${proxyPort}`,
          BENCH_DATA: data,
          BENCH_RECORDINGS: recordings,
        },
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      await waitForPort("127.0.0.1", proxyPort, 60_000);
      return child;
    };
    const stopProxy = async () => {
      if (!proxyChild) return;
      proxyChild.kill("SIGTERM");
      await proxyChild.status;
      proxyChild = null;
    };
    proxyChild = await startProxy();

    const cfg = join(WORK, `ssh_config-${Deno.pid}`);
    await Deno.writeTextFile(
      cfg,
      [
        "Host *",
        "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null",
        "  LogLevel ERROR",
        "  BatchMode yes",
        "  IdentitiesOnly yes",
        `  IdentityFile ${client.path}`,
        `  BindAddress ${BIND}`,
        "",
      ].join("\n"),
    );
    const U = backend.user;
    let relayPort = 0;
    const sshArgs = (p: EchoPath, extra = "") => {
      const base = `ssh -F ${cfg} ${extra}`;
      if (p === "deno_tcp") return `${base} -p ${relayPort} ${U}@127.0.0.1`;
      if (p === "direct") return `${base} -p ${backend.port} ${U}@127.0.0.1`;
      if (p === "jump") return `${base} -J ${U}@127.0.0.1:${jump.port} -p ${backend.port} ${U}@127.0.0.1`;
      return `${base} -p ${proxyPort} ${U}@b@127.0.0.1`;
    };
    const scpTarget = (p: Path, remote: string) => {
      if (p === "direct") return { opts: `-P ${backend.port}`, host: `${U}@127.0.0.1:${remote}` };
      if (p === "jump") {
        return {
          opts: `-J ${U}@127.0.0.1:${jump.port} -P ${backend.port}`,
          host: `${U}@127.0.0.1:${remote}`,
        };
      }
      return { opts: `-P ${proxyPort}`, host: `${U}@b@127.0.0.1:${remote}` };
    };
    const rotate = (i: number) => PATHS.map((_, k) => PATHS[(i + k) % PATHS.length]);
    const check = (r: { code: number; err: string }, what: string) => {
      if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.err}`);
    };
    /** a failed connection is retried once verbosely, so the report says why it failed */
    const diagnose = async (r: { code: number; err: string }, what: string, cmd: string) => {
      if (r.code === 0) return;
      const again = await sh(cmd.replace(/^ssh /, "ssh -v -o LogLevel=DEBUG1 "));
      throw new Error(
        `${what} failed (${r.code}): ${r.err}\nretry exited ${again.code}:\n` +
          again.err.split("\n").slice(-40).join("\n"),
      );
    };

    // ---- connection setup ----
    const setupCpu0 = procCpuSeconds(proxyChild.pid);
    for (
      const [label, extra] of [["setup_ms", ""], [
        "setup_ms_curve25519",
        "-o KexAlgorithms=curve25519-sha256",
      ]].slice(0, QUICK ? 1 : 2)
    ) {
      const times: Record<Path, number[]> = { direct: [], jump: [], proxy: [] };
      for (let i = 0; i < SETUP_N; i++) {
        for (const p of rotate(i)) {
          const cmd = `${sshArgs(p, extra)} true`;
          const r = await sh(cmd);
          await diagnose(r, `${p} setup`, cmd);
          times[p].push(r.ms);
        }
      }
      results[label] = Object.fromEntries(PATHS.map((p) => [p, median(times[p])]));
      log(label, results[label]);
    }
    const setup = results.setup_ms as Record<Path, number>;
    results.proxy_cpu_ms_per_connection = (procCpuSeconds(proxyChild.pid) - setupCpu0) * 1000 / (2 * SETUP_N);
    log("proxy CPU per connection, ms", results.proxy_cpu_ms_per_connection);

    // ---- bulk transfers ----
    log(`creating ${SIZE_MB} MiB source file`);
    check(await sh(`head -c ${SIZE_MB}M /dev/urandom > ${SRC} && chmod 644 ${SRC}`), "source file");
    const bytes = SIZE_MB * 1024 * 1024;
    const allKinds = {
      upload_exec: (p: Path) => `${sshArgs(p)} 'cat > /dev/null' < ${SRC}`,
      download_exec: (p: Path) => `${sshArgs(p)} 'cat ${SRC}' > /dev/null`,
      upload_scp: (p: Path) => {
        const t = scpTarget(p, `/dev/shm/jh-bench-up-${p}`);
        return `scp -F ${cfg} ${t.opts} ${SRC} ${t.host}`;
      },
      download_scp: (p: Path) =>
        `scp -F ${cfg} ${scpTarget(p, SRC).opts} ${scpTarget(p, SRC).host} /dev/null`,
    };
    const kinds = Object.entries(allKinds).filter(([k]) => !KINDS.length || KINDS.includes(k));
    const mibps: Record<string, Record<Path, number[]>> = {};
    let proxyCpu = 0, proxyBytes = 0, jumpCpu = 0, jumpBytes = 0;
    const cpuPerGib: Record<string, { proxy: number; jump_sshd: number }> = {};
    for (const [kind, cmd] of kinds) {
      mibps[kind] = { direct: [], jump: [], proxy: [] };
      let kProxyCpu = 0, kJumpCpu = 0;
      for (let rep = 0; rep < REPS; rep++) {
        for (const p of rotate(rep)) {
          const cpu0 = p === "proxy" ? procCpuSeconds(proxyChild!.pid) : 0;
          const jcpu0 = procChildCpuSeconds(jump.pid);
          const r = await sh(cmd(p));
          check(r, `${kind} via ${p}`);
          if (p === "proxy") {
            const c = procCpuSeconds(proxyChild!.pid) - cpu0;
            proxyCpu += c;
            kProxyCpu += c;
            proxyBytes += bytes;
          }
          if (p === "jump") {
            // the jump sshd's session processes are reaped after the client exits; wait until none is left
            for (let i = 0; i < 100 && hasChildren(jump.pid); i++) {
              await new Promise((res) => setTimeout(res, 20));
            }
            const c = procChildCpuSeconds(jump.pid) - jcpu0;
            jumpCpu += c;
            kJumpCpu += c;
            jumpBytes += bytes;
          }
          // the handshake is not part of the transfer: subtract this path's median setup time
          mibps[kind][p].push(SIZE_MB / Math.max(0.001, (r.ms - setup[p]) / 1000));
        }
      }
      results[kind + "_mibps"] = Object.fromEntries(PATHS.map((p) => [p, median(mibps[kind][p])]));
      cpuPerGib[kind] = {
        proxy: kProxyCpu / (REPS * bytes / 2 ** 30),
        jump_sshd: kJumpCpu / (REPS * bytes / 2 ** 30),
      };
      log(kind, results[kind + "_mibps"], "CPU-s/GiB", cpuPerGib[kind]);
    }
    results.proxy_cpu_s_per_gib = proxyCpu / (proxyBytes / 2 ** 30);
    results.jump_sshd_cpu_s_per_gib = jumpCpu / (jumpBytes / 2 ** 30);
    results.cpu_s_per_gib_by_kind = cpuPerGib;
    log("CPU-s per GiB: proxy", results.proxy_cpu_s_per_gib, "jump sshd", results.jump_sshd_cpu_s_per_gib);
    await sh(`rm -f /dev/shm/jh-bench-up-* ${SRC}`);

    // ---- PTY output, recorded by the proxy ----
    if (PTY_MB > 0) {
      const pty: Record<Path, number[]> = { direct: [], jump: [], proxy: [] };
      let ptyCpu = 0;
      for (let rep = 0; rep < REPS; rep++) {
        for (const p of rotate(rep)) {
          const cpu0 = p === "proxy" ? procCpuSeconds(proxyChild!.pid) : 0;
          const r = await sh(
            `${sshArgs(p, "-tt")} 'head -c ${PTY_MB}M /dev/zero | base64 -w 120' < /dev/null > /dev/null`,
          );
          check(r, `pty via ${p}`);
          if (p === "proxy") ptyCpu += procCpuSeconds(proxyChild!.pid) - cpu0;
          pty[p].push((PTY_MB * 4 / 3) / Math.max(0.001, (r.ms - setup[p]) / 1000));
        }
      }
      results.pty_output_mibps = Object.fromEntries(PATHS.map((p) => [p, median(pty[p])]));
      for (let i = 0; i < 100; i++) {
        if ((await db.sql`SELECT 1 FROM sessions WHERE is_active`).length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const [rec] = await db.sql<{ n: number; size: number }[]>`
      SELECT count(*)::int AS n, COALESCE(max(size), 0)::bigint AS size FROM recordings`;
      results.recordings = { files: rec.n, largest_bytes: Number(rec.size) };
      // per GiB of terminal output (base64 text), recording included
      results.pty_proxy_cpu_s_per_gib = ptyCpu / (REPS * PTY_MB * 4 / 3 / 1024);
      log(
        "pty",
        results.pty_output_mibps,
        results.recordings,
        "proxy CPU-s/GiB",
        results.pty_proxy_cpu_s_per_gib,
      );
    }

    // ---- keystroke echo round trip: one byte into a remote PTY running cat, its echo read back ----
    if (ECHO_N > 0) {
      const enc = new TextEncoder(), dec = new TextDecoder();
      // Deno's floor beside the three paths: the same keystrokes through a bare TCP relay in a Deno process
      relayPort = freePort();
      const relay = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(HERE, "tcp_relay.ts"), String(relayPort), String(backend.port)],
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      await waitForPort("127.0.0.1", relayPort, 30_000);
      const echoRtts = async (p: EchoPath): Promise<number[]> => {
        const child = new Deno.Command("sh", {
          args: ["-c", `exec ${sshArgs(p, "-tt")} 'stty -icanon; exec cat > /dev/null'`],
          stdin: "piped",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const w = child.stdin.getWriter();
        const r = child.stdout.getReader();
        let seen = "";
        // one read in flight at a time: a read abandoned by a timeout would swallow the bytes it gets
        let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
        const until = async (ch: string, ms: number) => {
          const end = performance.now() + ms;
          while (!seen.includes(ch)) {
            const left = end - performance.now();
            if (left <= 0) throw new Error(`no echo of ${JSON.stringify(ch)} via ${p}`);
            pending ??= r.read();
            const got = await Promise.race([
              pending,
              new Promise<null>((res) => setTimeout(() => res(null), left)),
            ]);
            if (got === null) continue;
            pending = null;
            if (got.done) throw new Error(`the session via ${p} ended`);
            seen += dec.decode(got.value);
          }
          seen = seen.slice(seen.lastIndexOf(ch) + 1);
        };
        // ready: the shell has run stty (the banner and prompt are drained by waiting for a marker's echo)
        for (let i = 0; i < 50; i++) {
          await w.write(enc.encode("#"));
          try {
            await until("#", 200);
            break;
          } catch (_e) {
            // not up yet
          }
        }
        await new Promise((res) => setTimeout(res, 300));
        seen = "";
        const rtts: number[] = [];
        for (let i = 0; i < ECHO_N; i++) {
          const ch = String.fromCharCode(0x61 + (i % 26));
          const t0 = performance.now();
          await w.write(enc.encode(ch));
          await until(ch, 5_000);
          rtts.push(performance.now() - t0);
          // a typist's pace: each key its own packet, nothing batched by the next
          await new Promise((res) => setTimeout(res, 2));
        }
        await w.write(enc.encode("\x04")).catch(() => {});
        await w.close().catch(() => {});
        r.releaseLock();
        await child.stdout.cancel().catch(() => {});
        try {
          child.kill("SIGTERM");
        } catch (_e) {
          // already gone
        }
        await child.status;
        return rtts;
      };
      const all: Record<EchoPath, number[]> = { direct: [], jump: [], proxy: [], deno_tcp: [] };
      const echoPaths: EchoPath[] = [...PATHS, "deno_tcp"];
      for (let rep = 0; rep < REPS; rep++) {
        for (let k = 0; k < echoPaths.length; k++) {
          const p = echoPaths[(rep + k) % echoPaths.length];
          all[p].push(...await echoRtts(p));
        }
      }
      relay.kill("SIGTERM");
      await relay.status;
      const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))];
      results.echo_rtt_ms_p50 = Object.fromEntries(echoPaths.map((p) => [p, q(all[p], 0.5)]));
      results.echo_rtt_ms_p95 = Object.fromEntries(echoPaths.map((p) => [p, q(all[p], 0.95)]));
      log("echo RTT p50", results.echo_rtt_ms_p50, "p95", results.echo_rtt_ms_p95);
    }

    // ---- 500 idle sessions (fresh proxy process); the same ramp direct to sshd for reference ----
    if (CONC > 0) {
      const ramp = async (p: Path) => {
        const sessions: Deno.ChildProcess[] = [];
        let ok = 0, failed = 0;
        const t0 = performance.now();
        const open = async () => {
          const child = new Deno.Command("sh", {
            args: ["-c", `exec ${sshArgs(p, "-T -o ServerAliveInterval=0")} 'echo R; exec cat'`],
            stdin: "piped",
            stdout: "piped",
            stderr: "null",
          }).spawn();
          sessions.push(child);
          const reader = child.stdout.getReader();
          const first = await Promise.race([
            reader.read(),
            new Promise<null>((r) => setTimeout(() => r(null), 60_000)),
          ]);
          reader.releaseLock();
          if (first && !first.done && new TextDecoder().decode(first.value).startsWith("R")) ok++;
          else failed++;
        };
        let next = 0;
        await Promise.all(Array.from({ length: INFLIGHT }, async () => {
          while (next < CONC) {
            next++;
            await open();
          }
        }));
        return { sessions, ok, failed, rampS: (performance.now() - t0) / 1000 };
      };
      const closeAll = async (sessions: Deno.ChildProcess[]) => {
        for (const s of sessions) await s.stdin.close().catch(() => {});
        await Promise.all(sessions.map(async (s) => {
          await s.stdout.cancel().catch(() => {});
          await s.status;
        }));
      };
      if (Deno.env.get("BENCH_CONC_DIRECT") !== "0") {
        const d = await ramp("direct");
        results.idle_sessions_direct = { connected: d.ok, failed: d.failed, ramp_s: d.rampS };
        log("idle sessions direct", results.idle_sessions_direct);
        await closeAll(d.sessions);
      }
      await stopProxy();
      proxyChild = await startProxy();
      await sh(`${sshArgs("proxy")} true`); // warm-up connection (JIT, pool)
      const rssFresh = procRssKiB(proxyChild.pid);
      const rampCpu0 = procCpuSeconds(proxyChild.pid);
      const { sessions, ok, failed, rampS } = await ramp("proxy");
      const rampCpuMs = (procCpuSeconds(proxyChild.pid) - rampCpu0) * 1000 / Math.max(1, ok);
      await new Promise((r) => setTimeout(r, 3000));
      const rss = procRssKiB(proxyChild.pid);
      const cpu0 = procCpuSeconds(proxyChild.pid);
      await new Promise((r) => setTimeout(r, 5000));
      const idleCpuPct = (procCpuSeconds(proxyChild.pid) - cpu0) / 5 * 100;
      const [{ n: activeRows }] = await db.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM sessions WHERE is_active`;
      results.idle_sessions = {
        requested: CONC,
        connected: ok,
        failed,
        ramp_s: rampS,
        ramp_cpu_ms_per_session: rampCpuMs,
        active_rows: activeRows,
        proxy_rss_fresh_mib: rssFresh / 1024,
        proxy_rss_mib: rss / 1024,
        kib_per_session: (rss - rssFresh) / Math.max(1, ok),
        idle_cpu_pct: idleCpuPct,
      };
      log("idle sessions", results.idle_sessions);
      await closeAll(sessions);
      for (let i = 0; i < 100; i++) {
        const [{ n }] = await db.sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM sessions WHERE is_active`;
        if (n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const [{ n: errors }] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM sessions WHERE termination_reason IS DISTINCT FROM 'normal'`;
      (results.idle_sessions as Record<string, unknown>).rows_not_normal = errors;
    }
  } finally {
    if (proxyChild) {
      (proxyChild as Deno.ChildProcess).kill("SIGTERM");
      await (proxyChild as Deno.ChildProcess).status;
    }
    await backend.stop();
    await jump.stop();
    await db.close();
    await Deno.remove(data, { recursive: true }).catch(() => {});
    await sh(`rm -f /dev/shm/jh-bench-up-* ${SRC}`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  await Deno.mkdir(join(WORK, "results"), { recursive: true });
  await Deno.writeTextFile(join(WORK, "results", `results-${stamp}.json`), JSON.stringify(results, null, 2));
  console.log(report(results));
}

function report(r: Record<string, unknown>): string {
  const n = (x: unknown, d = 1) => typeof x === "number" && isFinite(x) ? x.toFixed(d) : "–";
  const row = (label: string, key: string, unit: string, lowerIsBetter = false) => {
    const v = r[key] as Record<Path, number> | undefined;
    if (!v) return null;
    const f = (x: number) => n(x, unit === "ms" ? 0 : 1);
    const ratio = (p: Path, base: Path) => `x${n(v[p] / v[base], 2)}`;
    const extra = lowerIsBetter
      ? ` (direct +${n(v.proxy - v.direct, 0)} ms)`
      : ` (${ratio("proxy", "jump")} of jump)`;
    return `| ${label} | ${f(v.direct)} | ${f(v.jump)} (${ratio("jump", "direct")}) | ${f(v.proxy)} (${
      ratio("proxy", "direct")
    })${extra} |`;
  };
  // lower is better, sub-millisecond: two decimals and the ratio to jump
  const echoRow = (label: string, key: string) => {
    const v = r[key] as Record<Path, number> | undefined;
    if (!v) return null;
    return `| ${label} | ${n(v.direct, 2)} | ${n(v.jump, 2)} | ${n(v.proxy, 2)} (x${
      n(v.proxy / v.jump, 2)
    } of jump) |`;
  };
  const idle = r.idle_sessions as Record<string, number> | undefined;
  const byKind = r.cpu_s_per_gib_by_kind as Record<string, { proxy: number; jump_sshd: number }>;
  return [
    `| metric | direct | jump (ssh -J) | jumphost proxy |`,
    `|---|---|---|---|`,
    row("setup `ssh host true`, ms, median of " + r.setup_n, "setup_ms", "ms", true),
    row("setup, kex curve25519-sha256, ms", "setup_ms_curve25519", "ms", true),
    row(`upload ${r.size_mib} MiB (exec cat), MiB/s`, "upload_exec_mibps", "MiB/s"),
    row(`download ${r.size_mib} MiB (exec cat), MiB/s`, "download_exec_mibps", "MiB/s"),
    row(`upload ${r.size_mib} MiB (scp/SFTP), MiB/s`, "upload_scp_mibps", "MiB/s"),
    row(`download ${r.size_mib} MiB (scp/SFTP), MiB/s`, "download_scp_mibps", "MiB/s"),
    row(`PTY output (base64), recorded by the proxy, MiB/s`, "pty_output_mibps", "MiB/s"),
    echoRow("keystroke echo round trip p50, ms", "echo_rtt_ms_p50"),
    echoRow("keystroke echo round trip p95, ms", "echo_rtt_ms_p95"),
    ``,
    `CPU-s per GiB relayed: proxy ${n(r.proxy_cpu_s_per_gib)}, jump sshd ${n(r.jump_sshd_cpu_s_per_gib)} (` +
    Object.entries(byKind).map(([k, v]) => `${k} ${n(v.proxy)} vs ${n(v.jump_sshd)}`).join(", ") + `)` +
    (r.pty_proxy_cpu_s_per_gib !== undefined
      ? `; PTY (recorded) proxy ${n(r.pty_proxy_cpu_s_per_gib)} per GiB of terminal output`
      : ""),
    `proxy CPU per connection (setup phase): ${n(r.proxy_cpu_ms_per_connection, 0)} ms`,
    r.echo_rtt_ms_p50
      ? `echo round trip through a bare Deno TCP relay before sshd (Deno's floor, tcp_relay.ts): p50 ${
        n((r.echo_rtt_ms_p50 as Record<string, number>).deno_tcp, 2)
      } ms, p95 ${n((r.echo_rtt_ms_p95 as Record<string, number>).deno_tcp, 2)} ms`
      : null,
    idle
      ? `idle sessions: ${idle.connected}/${idle.requested} connected (${idle.failed} failed) in ${
        n(idle.ramp_s)
      } s (${n(idle.ramp_cpu_ms_per_session, 0)} CPU-ms per session); ` +
        `proxy RSS ${n(idle.proxy_rss_fresh_mib, 0)} MiB fresh → ${n(idle.proxy_rss_mib, 0)} MiB ` +
        `(${n(idle.kib_per_session, 0)} KiB/session); idle CPU ${n(idle.idle_cpu_pct)}%; ` +
        `${idle.active_rows} active rows; ${idle.rows_not_normal} rows not closed as normal` +
        (r.idle_sessions_direct
          ? `; the same ramp direct to sshd: ${
            n((r.idle_sessions_direct as Record<string, number>).ramp_s)
          } s`
          : "")
      : null,
  ].filter((l) => l !== null).join("\n");
}

await main();
