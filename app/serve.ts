// jumphost serve: one process — database (embedded or external), SSH and RDP listener workers, web console,
// conversion pool. Stops in reverse order on SIGTERM/SIGINT, the embedded PostgreSQL last.
import { createLogger, type Logger } from "../core/log.ts";
import { type Config, firstAdminCommand } from "../core/config.ts";
import { openDb } from "../db/open.ts";
import { connect, type DbTarget, type Sql } from "../db/client.ts";
import { writeAudit } from "../db/audit.ts";
import { countActiveAdmins } from "../db/console_users.ts";
import { SERVICES } from "./services.ts";
import { finalAuditCheckpoint } from "./audit_checkpoints.ts";
import { jumphostMetrics, MetricsHub } from "../core/metrics/mod.ts";
import type { ServeDeps, Service } from "./service.ts";
import { startLocalPg } from "../db/local_pg.ts";
import { watchDb } from "./db_watch.ts";

/**
 * Runs the appliance until SIGTERM/SIGINT (SIGHUP reloads the configuration through `reloadConfig`);
 * resolves with the exit code.
 */
export async function serve(config: Config, reloadConfig: () => Config): Promise<number> {
  const log = createLogger(config.logLevel, "serve");
  log.info("starting", { node: config.nodeId, data_dir: config.dataDir, profile: config.profile });
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    max: 10,
    appName: "jumphost-serve",
    log: (l) => log.info(l),
    warn: (l, fields) => log.warn(l, fields),
  });
  const dbTarget: DbTarget = db.local
    ? {
      socketDir: db.local.socketDir,
      port: db.local.port,
      user: db.local.user,
      database: db.local.database,
    }
    : { url: config.databaseUrl! };
  const hub = new MetricsHub();
  const metrics = jumphostMetrics(hub.local);
  // the embedded cluster is supervised: started again when it is not running (crash, kill -9)
  const local = db.local;
  const dbWatch = watchDb({
    sql: db.sql,
    probeSql: connect(dbTarget, { max: 1, appName: "jumphost-probe" }),
    nodeId: config.nodeId,
    log: log.child("database"),
    metrics,
    restartLocal: local
      ? async () => {
        await startLocalPg({ dir: local.dir, log: (l) => log.info(l), warn: (l, f) => log.warn(l, f) });
      }
      : null,
  });
  const deps: ServeDeps = {
    config,
    sql: db.sql,
    dbTarget,
    log,
    hub,
    metrics,
    listeners: [],
    dbHealth: dbWatch.health,
  };
  const running: Service[] = [];
  let stopping = false;
  const stopped = Promise.withResolvers<void>();
  // a signal during start-up waits for the service being started, and no further one starts
  const startup = Promise.withResolvers<void>();
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await startup.promise;
    // a service waiting to retry its start holds nothing: end its wait first, so it cannot come up
    // while the others stop
    const order = [...running.filter((s) => s.state?.() === "retrying"), ...running.reverse()];
    for (const s of new Set(order)) {
      try {
        await s.stop();
        log.info("stopped", { service: s.name });
      } catch (e) {
        log.error("stop failed", { service: s.name, error: (e as Error).message });
      }
    }
    await dbWatch.stop();
    await writeAudit(
      db.sql,
      { actor: "system", action: "system.stop", success: true, details: { signal } },
      config.nodeId,
    )
      .catch(() => {});
    await finalAuditCheckpoint(db.sql, config, log);
    await db.close({ stopLocal: true });
    stopped.resolve();
  };
  const reload = async () => {
    let next: Config;
    try {
      next = reloadConfig();
    } catch (e) {
      log.error("SIGHUP: configuration invalid; keeping the running one", { error: (e as Error).message });
      return;
    }
    for (const s of running) {
      try {
        await s.reload?.(next);
      } catch (e) {
        log.error("reload failed", { service: s.name, error: (e as Error).message });
      }
    }
    // services restarted later (a crashed worker) start with the new configuration
    deps.config = next;
    log.info("configuration reloaded", { services: running.filter((s) => s.reload).map((s) => s.name) });
  };
  const onSignal = (sig: Deno.Signal) => () => void (sig === "SIGHUP" ? reload() : shutdown(sig));
  const handlers = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((sig) => {
    const h = onSignal(sig);
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });
  try {
    for (const [name, start] of SERVICES) {
      if (stopping) break;
      try {
        const s = await start(deps);
        running.push(s);
        // a supervised service whose first start failed has logged why and retries by itself
        if (s.state?.() === "retrying") continue;
        if (!s.state) deps.metrics.serviceUp.set({ service: name }, 1);
        log.info("started", { service: name });
      } catch (e) {
        // a missing binary, say: reported; the rest keeps running
        deps.metrics.serviceUp.set({ service: name }, 0);
        log.error("service failed to start", { service: name, error: (e as Error).message });
      }
    }
    startup.resolve();
    if (!stopping) {
      // what runs at this moment, and what waits to retry (it logs "service started" when it comes up)
      const up = running.filter((s) => s.state?.() !== "retrying").map((s) => s.name);
      const retrying = running.filter((s) => s.state?.() === "retrying").map((s) => s.name);
      await writeAudit(db.sql, {
        actor: "system",
        action: "system.start",
        success: true,
        details: { services: up, retrying },
      }, config.nodeId);
      log.info("ready", { services: up, retrying });
      await noticeMissingAdmin(db.sql, config, log);
    }
    await stopped.promise;
  } finally {
    startup.resolve();
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
    if (!stopping) await shutdown("error");
  }
  return 0;
}

/** Nobody can log in to the console until an admin exists: say how to make one (a checkout has none). */
async function noticeMissingAdmin(sql: Sql, config: Config, log: Logger): Promise<void> {
  try {
    if (await countActiveAdmins(sql) > 0) return;
    const command = firstAdminCommand(config.profile);
    log.warn(
      `no console admin exists: create one with \`${command}\` (same configuration as serve; ` +
        "it prints a one-time password, replaced by your own at the first login)",
      { command },
    );
  } catch (e) {
    log.warn("could not count console admins", { error: (e as Error).message });
  }
}
