// /healthz (liveness + database reachability) and /metrics (Prometheus text) as a Hono sub-app that the
// console mounts before its session middleware, or that can be served alone on a separate address.
import { Hono } from "hono";
import type { Sql } from "../../db/client.ts";
import { activeSessionsByProtocol, pingDb, storedRecordingBytes } from "../../db/ops_stats.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../core/metrics/prometheus.ts";
import type { MetricFamily, MetricsHub } from "../../core/metrics/registry.ts";
import type { DbHealth } from "../deps.ts";
import { ttlCache } from "../ttl_cache.ts";

/** the recordings total sums a table that grows without bound: scrapes share one sum a minute */
const STORED_BYTES_TTL_MS = 60_000;

export interface OpsDeps {
  sql: Sql;
  hub: MetricsHub;
  nodeId: string;
  /** /metrics from non-loopback clients needs `Authorization: Bearer <token>`; null = loopback only */
  metricsToken: string | null;
  /** how long a database probe may take before /healthz says "unreachable" */
  dbTimeoutMs?: number;
  /** the process start, for uptime and process_start_time_seconds */
  startedAt?: Date;
  now?: () => Date;
  /** serve's view of the database (app/db_watch.ts): an outage it saw is reported with its start */
  dbHealth?: () => DbHealth;
}

export interface OpsEnv {
  Bindings: { remoteAddr?: { hostname?: string } };
}

const PROTOCOLS = ["ssh", "rdp"];

export function isLoopback(ip: string | null | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || ip === "::1";
}

/** constant-time comparison of a presented bearer token with the configured one */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m) return false;
  const a = new TextEncoder().encode(m[1]);
  const b = new TextEncoder().encode(token);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Figures read from the database at scrape time (they survive restarts and cover every worker). */
async function dbFamilies(
  deps: OpsDeps,
  ms: number,
  storedBytes: () => Promise<number>,
): Promise<MetricFamily[]> {
  const [active, bytes] = await withTimeout(
    Promise.all([activeSessionsByProtocol(deps.sql, deps.nodeId), storedBytes()]),
    ms,
  );
  return [
    {
      name: "jumphost_active_sessions",
      help: "Sessions open on this node",
      type: "gauge",
      samples: PROTOCOLS.map((p) => ({
        labels: { protocol: p },
        value: active.find((r) => r.protocol === p)?.count ?? 0,
      })),
    },
    {
      name: "jumphost_recordings_stored_bytes",
      help: "Size of all recordings known to the database (summed at most once a minute)",
      type: "gauge",
      samples: [{ labels: {}, value: bytes }],
    },
  ];
}

export function createOpsApp(deps: OpsDeps): Hono<OpsEnv> {
  const now = deps.now ?? (() => new Date());
  const startedAt = deps.startedAt ?? now();
  const ms = deps.dbTimeoutMs ?? 2000;
  const app = new Hono<OpsEnv>();
  const storedBytes = ttlCache(STORED_BYTES_TTL_MS, now, () => storedRecordingBytes(deps.sql));

  app.get("/healthz", async (c) => {
    const uptime = Math.max(0, Math.round((now().getTime() - startedAt.getTime()) / 1000));
    const h = deps.dbHealth?.();
    const watch = h
      ? {
        database_down_since: h.since?.toISOString() ?? null,
        database_restarts: h.restarts,
      }
      : {};
    try {
      await withTimeout(pingDb(deps.sql), ms);
      return c.json({ status: "ok", database: "ok", node: deps.nodeId, uptime_seconds: uptime, ...watch });
    } catch (e) {
      // no driver details to anonymous callers: they can see the state, not the error
      const detail = (e as Error).message.startsWith("no answer") ? "timeout" : "unreachable";
      return c.json(
        { status: "degraded", database: detail, node: deps.nodeId, uptime_seconds: uptime, ...watch },
        503,
      );
    }
  });

  app.get("/metrics", async (c) => {
    const ip = c.env?.remoteAddr?.hostname ?? null;
    const authorised = deps.metricsToken
      ? tokenMatches(c.req.header("Authorization"), deps.metricsToken) || isLoopback(ip)
      : isLoopback(ip);
    if (!authorised) {
      return c.text("metrics are served to loopback clients, or with the configured bearer token\n", 403);
    }
    let fromDb: MetricFamily[] = [];
    let dbUp = 1;
    try {
      fromDb = await dbFamilies(deps, ms, storedBytes);
    } catch (_e) {
      // the scrape still answers (with jumphost_database_up 0): that is when it matters most
      dbUp = 0;
    }
    const process: MetricFamily[] = [
      {
        name: "jumphost_database_up",
        help: "1 when the database answered this scrape",
        type: "gauge",
        samples: [{ labels: {}, value: dbUp }],
      },
      {
        name: "process_start_time_seconds",
        help: "Start time of the process since the Unix epoch in seconds",
        type: "gauge",
        samples: [{ labels: {}, value: Math.floor(startedAt.getTime() / 1000) }],
      },
      {
        name: "process_resident_memory_bytes",
        help: "Resident memory size in bytes",
        type: "gauge",
        samples: [{ labels: {}, value: Deno.memoryUsage().rss }],
      },
    ];
    const body = renderPrometheus(deps.hub.collect([...fromDb, ...process]));
    return c.body(body, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" });
  });

  return app;
}
