// NLA connection setup: xfreerdp /sec:nla → freerdp-shadow-cli /sec:nla +auth directly, and the same through
// the proxy (CredSSP at the jump with the NT hash from PostgreSQL, policy decision, session and recording rows,
// then CredSSP towards the backend with the passthrough credential). Setup is timed from xfreerdp's own state
// log: CONNECTION_STATE_NEGO (TCP connected, X.224 next) to CONNECTION_STATE_ACTIVE (desktop relayed), and
// the security part alone (NEGO to MCS_CONNECT: X.224, TLS, CredSSP). Runs alternate direct/proxied.
//   deno run -A bench/rdp/bench_nla.ts [--quick]
import { join } from "node:path";
import { createLogger } from "../../core/log.ts";
import { loadApplianceKey } from "../../core/appliance_key.ts";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { createRdpProxy } from "../../proxy/rdp/mod.ts";
import { freePort, startShadow, startXfreerdp } from "../../tests/helpers/rdp_backend.ts";
import { createTestDb } from "../../tests/helpers/test_db.ts";

const quick = Deno.args.includes("--quick");
const RUNS = quick ? 3 : 10;
const USER = "alice";
const PASSWORD = "Bench-nla-1";

const dir = await Deno.makeTempDir({ prefix: "jh-rdp-nla-bench-" });
const shadow = await startShadow({ nla: [{ user: USER, password: PASSWORD }] });
const db = await createTestDb();
const secretKey = await loadApplianceKey(dir);
await createUser(db.sql, { name: USER, password: PASSWORD, sourceIps: [{ cidr: "127.0.0.1/32" }] }, "bench", {
  secretKey,
});
await createServer(
  db.sql,
  {
    name: "desk",
    address: "127.0.0.1",
    rdpPort: shadow.port,
    protocols: ["rdp"],
    poolIp: "127.0.0.5",
    rdpSecurity: "nla",
  },
  "bench",
  null,
);
await createPolicy(db.sql, {
  user: USER,
  server: "desk",
  validFrom: new Date(Date.now() - 60_000),
  validUntil: new Date(Date.now() + 3_600_000),
}, "bench");
const proxyPort = await freePort("0.0.0.0");
const proxy = await createRdpProxy({
  sql: db.sql,
  nodeId: "rdp-nla-bench",
  listen: [{ host: "0.0.0.0", port: proxyPort }],
  dataDir: dir,
  recordingsDir: join(dir, "recordings"),
  log: createLogger("error", "rdp"),
  dedupeWindowMs: 0,
});

interface Timing {
  securityMs: number;
  setupMs: number;
}

/** One xfreerdp connection, timed from its state log as the lines arrive. */
async function connectOnce(host: string, port: number): Promise<Timing> {
  const c = await startXfreerdp({
    host,
    port,
    user: USER,
    password: PASSWORD,
    args: ["/sec:nla", "/log-level:DEBUG"],
    lineBuffered: true,
  });
  try {
    await c.process.waitFor(/--> CONNECTION_STATE_NEGO/, 20_000);
    const t0 = performance.now();
    await c.process.waitFor(/--> CONNECTION_STATE_MCS_CONNECT/, 20_000);
    const t1 = performance.now();
    await c.process.waitFor(/--> CONNECTION_STATE_ACTIVE/, 20_000);
    const t2 = performance.now();
    return { securityMs: t1 - t0, setupMs: t2 - t0 };
  } finally {
    await c.stop();
  }
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const runs: { direct: Timing[]; proxied: Timing[] } = { direct: [], proxied: [] };
try {
  for (let i = 0; i < RUNS; i++) {
    runs.direct.push(await connectOnce("127.0.0.1", shadow.port));
    runs.proxied.push(await connectOnce("127.0.0.5", proxyPort));
    while (proxy.activeConnections() > 0) await new Promise((r) => setTimeout(r, 50));
  }
  const summary = (ts: Timing[]) => ({
    security_p50_ms: Math.round(pct(ts.map((t) => t.securityMs), 0.5)),
    setup_p50_ms: Math.round(pct(ts.map((t) => t.setupMs), 0.5)),
    setup_p90_ms: Math.round(pct(ts.map((t) => t.setupMs), 0.9)),
  });
  const direct = summary(runs.direct);
  const proxied = summary(runs.proxied);
  console.log(JSON.stringify(
    {
      quick,
      runs: RUNS,
      direct,
      proxied,
      ratio_setup_p50: +(proxied.setup_p50_ms / direct.setup_p50_ms).toFixed(2),
      ratio_security_p50: +(proxied.security_p50_ms / direct.security_p50_ms).toFixed(2),
    },
    null,
    2,
  ));
} finally {
  await proxy.stop();
  await db.close();
  await shadow.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
