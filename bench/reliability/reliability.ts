// Reliability figures (loopback only, bounded loops; run as root: sshd, the embedded cluster's OS user):
//   deno run -A bench/reliability/reliability.ts        # writes bench/reliability/RESULTS.md
// Knobs: REL_LIVE (sessions live across the outage, default 20), REL_REFUSED (logins refused during it,
// from distinct sources, default 50), REL_PG_KILLS (kill -9 of the embedded postmaster, default 3).
//
// 1. Database outage under a running serve (external PostgreSQL, connections refused at the server):
//    live sessions end during the outage, new logins are refused, then serve itself is killed with SIGKILL
//    while the database is still away; the database comes back and serve is started again. Counted: audit
//    events of the outage (session ends + refusals) and how many of them are in audit_log afterwards, once.
// 2. kill -9 of the embedded postmaster under serve: time until /healthz answers 200 again, and until an
//    SSH login works again.
import { connect } from "../../db/client.ts";
import { TEST_PG_DIR } from "../../tests/helpers/test_db.ts";
import { type ServeEnv, startServeEnv } from "../../tests/helpers/serve_env.ts";
import { clientArgs, ssh } from "../../tests/helpers/ssh_clients.ts";

const LIVE = Number(Deno.env.get("REL_LIVE") ?? 20);
const REFUSED = Math.min(Number(Deno.env.get("REL_REFUSED") ?? 50), 250);
const PG_KILLS = Number(Deno.env.get("REL_PG_KILLS") ?? 3);

async function until<T>(ms: number, f: () => Promise<T | null | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (_e) {
      // not yet
    }
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function outage(): Promise<Record<string, number | string>> {
  const env = await startServeEnv();
  const admin = connect({ socketDir: TEST_PG_DIR, database: "postgres" }, { max: 1 });
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const c = await clientArgs(env.client);
    // sessions that are live when the database goes away and end during the outage; opened 16 at a time
    // (a source address may hold at most 32 connections in setup)
    const live: Deno.ChildProcess[] = [];
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const sessionEndAt = Date.now() + 8_000 + LIVE * 150;
    for (let i = 0; i < LIVE; i += 16) {
      const batch = Array.from({ length: Math.min(16, LIVE - i) }, () =>
        new Deno.Command("ssh", {
          args: [
            ...c.args,
            ...["-p", String(env.ports.ssh), "-l", env.target, "127.0.0.1"],
            // every session ends at the same moment, during the outage
            `echo up; sleep $(( (${sessionEndAt} - $(date +%s%3N)) / 1000 + 1 ))`,
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        }).spawn());
      for (const p of batch) {
        const r = p.stdout.getReader();
        const first = await r.read();
        if (first.done || !new TextDecoder().decode(first.value).includes("up")) {
          throw new Error("a session did not start");
        }
        live.push(p);
        readers.push(r);
      }
    }
    const sessionIds = (await env.db.sql<{ session_id: string }[]>`
      SELECT session_id FROM sessions WHERE is_active`).map((r) => r.session_id);
    if (sessionIds.length !== LIVE) throw new Error(`${sessionIds.length} sessions live, not ${LIVE}`);
    await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS false`);
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${env.db.name}`;
    const outageFrom = new Date();
    let refusedOk = 0;
    for (let i = 0; i < REFUSED; i++) {
      const bind = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      const r = await ssh({ bind, key: env.client.key }, env.ports.ssh, "127.0.0.1", env.target, ["true"]);
      if (r.code === 255) refusedOk++;
    }
    for (const r of readers) while (!(await r.read()).done) { /* drain */ }
    await Promise.all(live.map((p) => p.status));
    // the proxy has seen every client leave once the spool stops growing (1 s without a new line, at most
    // 20 s); then serve is killed
    const spoolLines = async () =>
      (await Deno.readTextFile(`${env.dataDir}/spool/audit-ssh.jsonl`)).split("\n").filter((l) => l.trim())
        .length;
    const clientsGone = Date.now();
    let spooled = await spoolLines();
    for (let stable = 0; stable < 10 && Date.now() - clientsGone < 20_000;) {
      await new Promise((r) => setTimeout(r, 100));
      const n = await spoolLines();
      stable = n === spooled ? stable + 1 : 0;
      spooled = n;
    }
    const settleMs = Date.now() - clientsGone;
    const kill = Deno.env.get("REL_NO_KILL") !== "1";
    if (kill) {
      Deno.kill(env.serve.child.pid, "SIGKILL");
      await env.serve.child.status;
    }
    await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
    const outageMs = Date.now() - outageFrom.getTime();
    if (kill) await env.respawn();
    const t0 = Date.now();
    if (kill) await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const expected = LIVE + REFUSED;
    const counted = async () => {
      const [r] = await env.db.sql<{ ends: number; refusals: number; ids: number; rows: number }[]>`
        SELECT count(*) FILTER (WHERE action = 'ssh.session_end' AND details->>'session_id' = ANY(${sessionIds}))::int AS ends,
               count(*) FILTER (WHERE action = 'ssh.access_denied' AND at >= ${outageFrom})::int AS refusals,
               count(DISTINCT (action, actor, host(source_ip), at, details::text))::int AS ids,
               count(*)::int AS rows
        FROM audit_log WHERE at >= ${outageFrom} AND action IN ('ssh.session_end', 'ssh.access_denied')`;
      return r;
    };
    const got = await until(60_000, async () => {
      const r = await counted();
      return r.ends + r.refusals >= expected ? r : null;
    }).catch(() => counted());
    const replayMs = Date.now() - t0;
    return {
      live_sessions_across_outage: LIVE,
      logins_refused_during_outage: refusedOk,
      events_during_outage: expected,
      events_in_spool_at_kill: spooled,
      clients_gone_to_spool_stable_ms: settleMs,
      session_end_rows: got.ends,
      refusal_rows: got.refusals,
      lost: Math.max(0, expected - got.ends - got.refusals),
      rows_written_twice: got.rows - got.ids,
      outage_ms: outageMs,
      restart_to_replayed_ms: replayMs,
    };
  } finally {
    await admin.end();
    await env.close();
  }
}

async function pgKills(): Promise<{ healthzMs: number[]; sshMs: number[] }> {
  const env: ServeEnv = await startServeEnv({ embedded: true });
  const healthzMs: number[] = [], sshMs: number[] = [];
  try {
    await env.serve.waitFor(/"msg":"ready"/, 90_000);
    for (let i = 0; i < PG_KILLS; i++) {
      const pid = Number(Deno.readTextFileSync(`${env.dataDir}/pg/postmaster.pid`).split("\n")[0]);
      const t0 = Date.now();
      Deno.kill(pid, "SIGKILL");
      await until(
        10_000,
        async () => (await fetch(`http://127.0.0.1:${env.ports.web}/healthz`)).status === 503,
      );
      await until(120_000, async () => {
        const res = await fetch(`http://127.0.0.1:${env.ports.web}/healthz`);
        const b = await res.json();
        return res.status === 200 && b.database_down_since === null;
      });
      healthzMs.push(Date.now() - t0);
      await until(60_000, async () => (await env.sshRun(["echo ok"])).stdout === "ok\n");
      sshMs.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await env.close();
  }
  return { healthzMs, sshMs };
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const startLoad = load();
const o = await outage();
const k = await pgKills();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const md = `# Reliability figures

Produced by \`deno run -A bench/reliability/reliability.ts\` (root; loopback only; real OpenSSH client and sshd,
real PostgreSQL 15). Run of ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on a 2-core VM
shared with other work (load average ${startLoad} at the start, ${load()} at the end).

## Database outage, then kill -9 of serve during it

${LIVE} SSH sessions (opened 16 at a time) live when the database went away (connections refused at the PostgreSQL server, backends
terminated); they ended during the outage; ${REFUSED} logins from distinct source addresses were refused during
it; then serve was killed with SIGKILL while the database was still away, the database came back, and serve
was started again on the same data dir (the spool is replayed at start).

| figure | value |
| --- | --- |
${Object.entries(o).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

\`lost\` counts outage events (session ends of those ${LIVE} sessions + refusals) missing from audit_log after
the restart; \`rows_written_twice\` counts outage rows that are the same event twice (0: replay is idempotent).

## kill -9 of the embedded PostgreSQL under serve (${PG_KILLS} times)

| figure | each run, ms | median, ms |
| --- | --- | --- |
| kill → /healthz 200 again (restarted by serve) | ${k.healthzMs.join(", ")} | ${median(k.healthzMs)} |
| kill → an SSH login through the proxy works again | ${k.sshMs.join(", ")} | ${median(k.sshMs)} |
`;
const out = new URL(Deno.env.get("REL_OUT") ?? "./RESULTS.md", import.meta.url);
// the flood figures are another script's (preauth_flood.ts): keep its section
let kept = "";
try {
  const old = Deno.readTextFileSync(out);
  const at = old.indexOf("## Pre-authentication flood");
  if (at >= 0) kept = "\n" + old.slice(at);
} catch (_e) {
  // first run
}
Deno.writeTextFileSync(out, md + kept);
await new Deno.Command(Deno.execPath(), { args: ["fmt", out.pathname] }).output();
console.log(md);
