// Console benchmark: latency of the busiest pages with 1M sessions and 10M audit rows loaded.
//   deno run -A bench/web/bench_web.ts [--sessions N] [--audit N] [--requests N]
// (loading the default sizes takes a few minutes; --sessions 100000 --audit 1000000 for a quick run)
// Runs against a throwaway database in the test cluster, through app.request() (the full Hono stack:
// session lookup, CSRF-free GETs, SQL, preact rendering), sequentially. Baselines side by side: the bare
// SQL behind each page, and OFFSET pagination for the deep page. Exits 1 if a page misses p95 < 50 ms.
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { fixtureApp } from "./app.ts";
import { seed } from "./seed.ts";
import { listSessions } from "../../db/session_queries.ts";
import { listAudit } from "../../db/audit.ts";
import { connectionsPerHour, dashboardCounts, topUsers } from "../../db/stats.ts";
import { createOpsApp } from "../../web/ops/app.ts";
import { MetricsHub } from "../../core/metrics/registry.ts";

const TARGET_P95_MS = 50;

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer`);
  return v;
}

interface Stat {
  p50: number;
  p95: number;
  max: number;
}

function stats(ms: number[]): Stat {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1] };
}

async function time(n: number, f: () => Promise<unknown>): Promise<Stat> {
  for (let i = 0; i < 5; i++) await f(); // warm caches and JIT
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return stats(out);
}

const sessions = arg("sessions", 1_000_000);
const audit = arg("audit", 10_000_000);
const requests = arg("requests", 200);
const now = new Date();

const db = await createTestDb();
try {
  const t0 = performance.now();
  await seed(db.sql, { users: 2_000, servers: 300, sessions, activeSessions: 40, audit, days: 30 }, now);
  console.log(
    `loaded:   ${sessions} sessions, ${audit} audit rows in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  const app = await fixtureApp(db.sql);

  // a cursor 10,000 rows deep, as if someone paged 200 times
  const [deep] = await db.sql<
    { id: number }[]
  >`SELECT id FROM sessions ORDER BY started_at DESC, id DESC OFFSET 10000 LIMIT 1`;
  const get = (path: string) => async () => {
    const r = await app.get(path);
    const body = await r.text();
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
  };
  // the sessions text search before migration 020, for comparison
  const oldTextSearch = (text: string) => {
    const like = `%${text}%`;
    return db.sql`SELECT id FROM sessions WHERE session_id ILIKE ${like} OR user_name ILIKE ${like}
      OR server_name ILIKE ${like} OR ssh_login ILIKE ${like} OR host(source_ip) LIKE ${like}
      ORDER BY started_at DESC, id DESC LIMIT 51`;
  };
  const ops = createOpsApp({ sql: db.sql, hub: new MetricsHub(), nodeId: "bench", metricsToken: null });
  const metrics = async () => {
    const r = await ops.request("/metrics", {}, { remoteAddr: { hostname: "127.0.0.1" } });
    await r.text();
    if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
  };
  const cases: [string, () => Promise<unknown>, string, () => Promise<unknown>][] = [
    ["dashboard (charts cached 30 s)", get("/"), "its 3 queries", () =>
      Promise.all([
        dashboardCounts(db.sql, now),
        connectionsPerHour(db.sql, now),
        topUsers(db.sql, new Date(now.getTime() - 7 * 86400_000)),
      ])],
    ["dashboard poll (active)", get("/dashboard/active"), "-", () => Promise.resolve()],
    ["sessions, first page", get("/sessions"), "its query", () => listSessions(db.sql, { limit: 51 })],
    [
      "sessions, 10k rows deep",
      get(`/sessions?after=${deep.id}`),
      "OFFSET 10000",
      () => db.sql`SELECT id FROM sessions ORDER BY started_at DESC, id DESC OFFSET 10000 LIMIT 51`,
    ],
    [
      "sessions, user + protocol",
      get("/sessions?user=user1&protocol=ssh"),
      "its query",
      () => listSessions(db.sql, { user: "user1", protocol: "ssh", limit: 51 }),
    ],
    [
      "sessions, text: a session id",
      get("/sessions?q=bench-424242"),
      "the OR of ILIKEs",
      () => oldTextSearch("bench-424242"),
    ],
    [
      "sessions, text: a user",
      get("/sessions?q=user1234"),
      "the OR of ILIKEs",
      () => oldTextSearch("user1234"),
    ],
    [
      "sessions, text: no match",
      get("/sessions?q=nowhere-at-all"),
      "the OR of ILIKEs",
      () => oldTextSearch("nowhere-at-all"),
    ],
    [
      "sessions, text: 2 characters",
      get("/sessions?q=v9"),
      "the OR of ILIKEs",
      () => oldTextSearch("v9"),
    ],
    [
      "audit, one user (acts/target/named)",
      get("/audit?user=user7"),
      "one OR",
      () =>
        db.sql`SELECT id FROM audit_log WHERE actor = 'user7' OR target = 'user7' OR details->>'user' = 'user7'
          ORDER BY at DESC, id DESC LIMIT 101`,
    ],
    [
      "audit, a quiet user",
      get("/audit?user=user1999"),
      "one OR",
      () =>
        db.sql`SELECT id FROM audit_log WHERE actor = 'user1999' OR target = 'user1999'
          OR details->>'user' = 'user1999' ORDER BY at DESC, id DESC LIMIT 101`,
    ],
    ["/metrics", metrics, "sum(size)", () => db.sql`SELECT sum(size) FROM recordings`],
    [
      "audit, failures of one action",
      get("/audit?action=ssh.access_denied&success=no"),
      "its query",
      () => listAudit(db.sql, { action: "ssh.access_denied", success: false, limit: 101 }),
    ],
    [
      "audit, one actor, 1 day",
      get(`/audit?actor=user7&from=${now.toISOString().slice(0, 10)}`),
      "its query",
      () =>
        listAudit(db.sql, { actor: "user7", since: new Date(now.toISOString().slice(0, 10)), limit: 101 }),
    ],
    [
      "audit, source CIDR",
      get("/audit?ip=10.3.0.0/16"),
      "its query",
      () => listAudit(db.sql, { sourceIp: "10.3.0.0/16", limit: 101 }),
    ],
  ];
  console.log(`requests: ${requests} per page, sequential, target p95 < ${TARGET_P95_MS} ms\n`);
  const rows: string[][] = [["page", "p50", "p95", "max", "baseline", "b.p50", "b.p95"]];
  let failed = false;
  for (const [name, f, bname, bf] of cases) {
    const s = await time(requests, f);
    const b = bname === "-" ? null : await time(requests, bf);
    if (s.p95 >= TARGET_P95_MS) failed = true;
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    rows.push([name, ms(s.p50), ms(s.p95), ms(s.max), bname, b ? ms(b.p50) : "", b ? ms(b.p95) : ""]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) {
    console.log(r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "));
  }
  await app.close();
  if (failed) {
    console.log(`\nFAIL: a page missed p95 < ${TARGET_P95_MS} ms`);
    Deno.exitCode = 1;
  }
} finally {
  await db.close();
}
