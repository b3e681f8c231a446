// Fuzzing the SSH listener of a real `serve` before authentication: a million connections over TCP, each
// sending one input — random bytes, or a real OpenSSH client's opening bytes (identification line and
// KEXINIT, captured from /usr/bin/ssh at the start) mutated: bit flips, truncation, extension, corrupted
// packet lengths, repeated slices — then half-closing. Sources spread over 127.1.0.0/16 so the per-source
// setup caps do not hide the parser. A crash is serve exiting or a legitimate key login failing (checked
// every 100,000 inputs and at the end).
//   deno run -A bench/reliability/fuzz_ssh_preauth.ts [--iterations N] [--seed S] [--concurrency C]
import net from "node:net";
import { startServeEnv } from "../../tests/helpers/serve_env.ts";
import { mutate, prng } from "./fuzz_rand.ts";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const ITERATIONS = arg("iterations", 1_000_000);
const SEED = arg("seed", 0x55d);
const CONCURRENCY = arg("concurrency", 32);

/** The first bytes a real OpenSSH client sends (identification line and KEXINIT), from a throwaway listener. */
async function captureOpenSsh(): Promise<Uint8Array> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const ssh = new Deno.Command("ssh", {
    args: [
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-p",
      String(port),
      "x@127.0.0.1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const conn = await l.accept();
  await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 capture\r\n"));
  const chunks: Uint8Array[] = [];
  let total = 0;
  const deadline = Date.now() + 3000;
  while (total < 1500 && Date.now() < deadline) {
    const b = new Uint8Array(4096);
    const n = await conn.read(b);
    if (!n) break;
    chunks.push(b.subarray(0, n));
    total += n;
  }
  conn.close();
  l.close();
  ssh.kill();
  await ssh.status;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return out;
}

const real = await captureOpenSsh();
const identEnd = real.indexOf(0x0a) + 1;
const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
function input(): Uint8Array {
  const r = rand();
  if (r < 0.15) return Uint8Array.from({ length: int(2000) }, () => int(256));
  if (r < 0.55) {
    // a valid identification line, then a damaged KEXINIT: reaches the packet parser
    const tail = mutate(rand, real.subarray(identEnd));
    const out = new Uint8Array(identEnd + tail.length);
    out.set(real.subarray(0, identEnd));
    out.set(tail, identEnd);
    return out;
  }
  return mutate(rand, real);
}

function send(port: number, bytes: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const localAddress = `127.1.${int(256)}.${1 + int(254)}`;
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.setNoDelay(true);
    let got = false;
    const done = (why: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(got ? "answered_then_timeout" : "timeout"), 10_000);
    s.on("connect", () => s.end(bytes));
    s.on("data", () => void (got = true));
    s.on("error", () => done(got ? "answered" : "error"));
    s.on("close", () => done(got ? "answered" : "closed"));
  });
}

const env = await startServeEnv();
for (let i = 0; i < 100; i++) {
  if (await env.healthz().then(() => true).catch(() => false)) break;
  await new Promise((r) => setTimeout(r, 200));
}
const login = async () => (await env.sshRun(["true"])).code === 0;
const counts: Record<string, number> = {};
let done = 0, loginFailures = 0;
const t0 = performance.now();
async function worker() {
  while (done < ITERATIONS) {
    const i = done++;
    const outcome = await send(env.ports.ssh, input());
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    if (i > 0 && i % 100_000 === 0) {
      const ok = await login();
      if (!ok) loginFailures++;
      console.error(
        `${i} inputs, ${Math.round((performance.now() - t0) / 1000)} s, login ${ok ? "ok" : "FAILED"}`,
      );
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (performance.now() - t0) / 1000;
const loginAtEnd = await login();
const errors = env.logLines().filter((l) => l.level === "error");
const [{ n: auditRows }] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log`;
const rss =
  Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${env.serve.child.pid}/status`))?.[1]) /
  1024;
const code = await env.close();
console.log(JSON.stringify({
  target: "SSH pre-auth",
  seed: SEED,
  inputs: ITERATIONS,
  captured_handshake_bytes: real.length,
  outcomes: counts,
  login_failures: loginFailures,
  login_at_end: loginAtEnd,
  error_log_lines: errors.length,
  audit_rows: auditRows,
  serve_rss_mib_at_end: Math.round(rss),
  serve_exit_code: code,
  seconds: Math.round(seconds),
}));
for (const e of errors.slice(0, 10)) console.error(`error logged: ${JSON.stringify(e).slice(0, 300)}`);
Deno.exit(loginAtEnd && loginFailures === 0 ? 0 : 1);
