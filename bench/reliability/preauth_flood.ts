// Pre-authentication flood (loopback only, bounded in count and time; run as root: sshd, prlimit):
//   deno run -A bench/reliability/preauth_flood.ts     # updates its section of bench/reliability/RESULTS.md
// Knobs: FLOOD_N (connections, default 10000, split between the SSH and RDP listeners), FLOOD_CONCURRENCY
// (held at once, default 1000), FLOOD_SOURCES (distinct source addresses in nobody's CIDR, default 200),
// FLOOD_SETUPS (legitimate logins timed idle and under the flood, default 30).
//
// A real `jumphost serve` with one user granted a real sshd. The legitimate user's setup time (OpenSSH client,
// key login, `true` on the backend, exit) is timed idle, then while FLOOD_N connections arrive from many
// addresses nobody logs in from: half garbage (random bytes, then close), half slowloris (a few bytes, then one
// byte every 2 s until the proxy cuts them). Counted: audit rows the flood wrote, setups refused by the caps,
// the user's setup p50/p95 idle and under the flood, and that every legitimate login succeeded.
import net from "node:net";
import { startServeEnv } from "../../tests/helpers/serve_env.ts";

const N = Number(Deno.env.get("FLOOD_N") ?? 10_000);
const CONCURRENCY = Number(Deno.env.get("FLOOD_CONCURRENCY") ?? 1000);
const SOURCES = Math.min(Number(Deno.env.get("FLOOD_SOURCES") ?? 200), 250 * 20);
const SETUPS = Number(Deno.env.get("FLOOD_SETUPS") ?? 30);
const SLOW_MAX_MS = 30_000;
const DEADLINE_MS = 15 * 60_000;

// enough descriptors for the flood, for this process and the serve it starts
await new Deno.Command("prlimit", { args: ["--pid", String(Deno.pid), "--nofile=65536:65536"] }).output();

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** One flood connection from `source`; resolves when it is over (closed by the proxy or given up). */
function floodOne(port: number, source: string, slow: boolean, protocol: "ssh" | "rdp"): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port, localAddress: source });
    let timer: ReturnType<typeof setInterval> | undefined;
    const giveUp = setTimeout(() => sock.destroy(), SLOW_MAX_MS);
    let outcome = "closed_by_proxy";
    sock.on("error", () => outcome = "error");
    sock.on("close", () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve(outcome);
    });
    sock.on("data", () => {});
    sock.on("connect", () => {
      if (!slow) {
        const junk = crypto.getRandomValues(new Uint8Array(64));
        sock.end(junk);
        outcome = "garbage_sent";
        return;
      }
      // the start of a real greeting, then a trickle that never completes it
      sock.write(protocol === "ssh" ? "SSH-2.0-" : new Uint8Array([0x03, 0x00]));
      timer = setInterval(() => sock.write("x"), 2000);
    });
  });
}

const env = await startServeEnv();
let md = "";
try {
  await env.serve.waitFor(/"msg":"ready"/, 60_000);
  const timedSetup = async () => {
    const t = performance.now();
    const r = await env.sshRun(["true"]);
    return { ms: performance.now() - t, ok: r.code === 0 };
  };
  for (let i = 0; i < 3; i++) await timedSetup(); // warm
  const idle: number[] = [];
  let idleFailed = 0;
  for (let i = 0; i < SETUPS; i++) {
    const r = await timedSetup();
    idle.push(r.ms);
    if (!r.ok) idleFailed++;
  }
  const [{ n: auditBefore }] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log`;
  const refusedBefore = await refusedSetups();

  // the flood, and the legitimate user's logins while it runs
  const t0 = Date.now();
  let started = 0, done = 0;
  const outcomes = new Map<string, number>();
  let flooding = true;
  const worker = async () => {
    while (started < N && Date.now() - t0 < DEADLINE_MS) {
      const i = started++;
      const src = `127.4.${Math.floor((i % SOURCES) / 250)}.${1 + (i % SOURCES) % 250}`;
      const protocol = i % 2 === 0 ? "ssh" : "rdp";
      const o = await floodOne(protocol === "ssh" ? env.ports.ssh : env.ports.rdp, src, i % 4 < 2, protocol);
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      done++;
    }
  };
  const flood = Promise.all(Array.from({ length: CONCURRENCY }, worker)).then(() => flooding = false);
  await new Promise((r) => setTimeout(r, 3000)); // the slowloris share builds up first
  const under: number[] = [];
  let underFailed = 0;
  while (flooding && under.length < SETUPS * 10) {
    const r = await timedSetup();
    under.push(r.ms);
    if (!r.ok) underFailed++;
    if (under.length >= SETUPS && done >= N * 0.8) break;
  }
  await flood;
  const floodSeconds = (Date.now() - t0) / 1000;
  // folded summaries are written within the minute
  await new Promise((r) => setTimeout(r, 65_000));
  const [{ n: auditAfter }] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log`;
  const refused = (await refusedSetups()) - refusedBefore;
  const rows: [string, string][] = [
    ["flood connections (SSH + RDP)", `${done} (${N} planned)`],
    ["source addresses (in nobody's CIDR)", String(SOURCES)],
    ["held at once", String(CONCURRENCY)],
    ["flood duration", `${floodSeconds.toFixed(1)} s`],
    ["outcomes", [...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")],
    ["setups refused by the caps", String(refused)],
    ["audit rows written by the flood", String(auditAfter - auditBefore)],
    ["legitimate setup p50 / p95, idle", `${pct(idle, 0.5).toFixed(0)} / ${pct(idle, 0.95).toFixed(0)} ms`],
    [
      "legitimate setup p50 / p95, under the flood",
      `${pct(under, 0.5).toFixed(0)} / ${pct(under, 0.95).toFixed(0)} ms (${under.length} logins)`,
    ],
    ["p95 ratio under flood / idle (target < 2)", (pct(under, 0.95) / pct(idle, 0.95)).toFixed(2)],
    ["legitimate logins failed (idle, under the flood)", `${idleFailed}, ${underFailed}`],
  ];
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  md = [
    "## Pre-authentication flood",
    "",
    `Produced by \`deno run -A bench/reliability/preauth_flood.ts\` at ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC (2-core VM shared with other work; load average ${load} at the end). A real serve with one user granted`,
    "a real sshd; the user's setup is an OpenSSH key login running `true` on the backend, timed end to end.",
    "Flood: half garbage (64 random bytes, close), half slowloris (a greeting's first bytes, then one byte every",
    "2 s until cut), half on the SSH and half on the RDP listener.",
    "",
    "| figure | value |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "The audit rows stay bounded because events of unidentified clients are folded per source, reason and",
    "minute; the user gets in because setups from sources inside a user's CIDR have a reserve the flood cannot",
    'take (README, "Before login").',
    "",
  ].join("\n");
  console.log(md);
} finally {
  await env.close();
}

async function refusedSetups(): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${env.ports.web}/metrics`);
  const text = await r.text();
  let n = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("jumphost_setup_refused_total")) n += Number(line.split(" ").at(-1));
  }
  return n;
}

if (md) {
  const out = new URL(Deno.env.get("REL_OUT") ?? "./RESULTS.md", import.meta.url);
  let text = "";
  try {
    text = await Deno.readTextFile(out);
  } catch (_e) {
    // first run
  }
  const at = text.indexOf("## Pre-authentication flood");
  const next = at < 0 ? -1 : text.indexOf("\n## ", at + 1);
  text = at < 0
    ? text.trimEnd() + "\n\n" + md
    : text.slice(0, at) + md + (next < 0 ? "" : text.slice(next + 1));
  await Deno.writeTextFile(out, text);
}
