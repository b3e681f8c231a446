// Watches the database from serve: a probe every second. When it fails, the outage is logged and shown
// (metric, /healthz, the console banner); for the embedded cluster, serve also restarts PostgreSQL with the
// supervisor's backoff when it is not running (a crash, kill -9 of the postmaster). Once the database
// answers again, one audit row says how long it was down and whether it was restarted.
import type { Logger } from "../core/log.ts";
import type { JumphostMetrics } from "../core/metrics/mod.ts";
import type { Sql } from "../db/client.ts";
import { writeAudit } from "../db/audit.ts";
import { pingDb } from "../db/ops_stats.ts";
import type { DbHealth } from "../web/deps.ts";
import { backoffMs } from "./supervisor.ts";

export interface DbWatchDeps {
  /** the pool the audit row is written with */
  sql: Sql;
  /** the probe's own connection (max 1), so a pool full of connections to a dead server is not what it tests */
  probeSql?: Sql;
  nodeId: string;
  log: Logger;
  metrics: JumphostMetrics;
  /** starts the embedded cluster when it is not running (idempotent); null for an external database */
  restartLocal: (() => Promise<void>) | null;
  probeMs?: number;
  /** a probe slower than this counts as a failure */
  timeoutMs?: number;
  now?: () => number;
}

export interface DbWatch {
  health(): DbHealth;
  stop(): Promise<void>;
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function watchDb(d: DbWatchDeps): DbWatch {
  const now = d.now ?? Date.now;
  const probeMs = d.probeMs ?? 1000;
  const timeoutMs = d.timeoutMs ?? 2000;
  let downSince: number | null = null;
  let lastError = "";
  let restarts = 0;
  let restartedThisOutage = false;
  let attempt = 0;
  let nextRestartAt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  d.metrics.databaseUp.set({}, 1);

  const probeSql = d.probeSql ?? d.sql;
  // a connection to a server that died fails once before it is replaced: a second try tells a dead server
  // from a dead connection
  const probe = () => within(pingDb(probeSql), timeoutMs).catch(() => within(pingDb(probeSql), timeoutMs));
  const tick = async () => {
    try {
      await probe();
      if (downSince !== null) {
        const downMs = now() - downSince;
        const restarted = restartedThisOutage;
        downSince = null;
        restartedThisOutage = false;
        attempt = 0;
        d.metrics.databaseUp.set({}, 1);
        d.metrics.databaseOutages.inc({ restarted: String(restarted) });
        d.log.info("database reachable again", { down_ms: downMs, restarted });
        await writeAudit(d.sql, {
          actor: "system",
          action: "system.database_outage",
          success: true,
          at: new Date(now() - downMs),
          details: { down_ms: downMs, restarted, error: lastError },
        }, d.nodeId).catch((e) =>
          d.log.error("cannot write the database outage audit row", { error: (e as Error).message })
        );
      }
    } catch (e) {
      lastError = (e as Error).message;
      d.log.debug("database probe failed", { error: lastError });
      if (downSince === null) {
        downSince = now();
        d.metrics.databaseUp.set({}, 0);
        d.log.error("database unreachable", {
          error: lastError,
          embedded: d.restartLocal !== null,
        });
      }
      if (d.restartLocal && now() >= nextRestartAt) {
        const delay = backoffMs(attempt++);
        nextRestartAt = now() + delay;
        try {
          await d.restartLocal();
          restarts++;
          restartedThisOutage = true;
          d.log.warn("embedded PostgreSQL (re)started", { attempt, down_ms: now() - downSince });
        } catch (err) {
          d.log.error("cannot restart the embedded PostgreSQL", {
            error: (err as Error).message,
            attempt,
            retry_in_ms: delay,
          });
        }
      }
    }
  };

  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = tick().finally(loop);
    }, probeMs);
  };
  loop();

  return {
    health: () => ({
      up: downSince === null,
      since: downSince === null ? null : new Date(downSince),
      error: downSince === null ? null : lastError,
      restarts,
    }),
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
      if (d.probeSql) await d.probeSql.end({ timeout: 1 }).catch(() => {});
    },
  };
}
