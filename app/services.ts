// What `serve` starts, in order (stopped in reverse): nodes, audit checkpoints, ssh, rdp, conversions, web,
// directory, syslog, webhooks. Workers are supervised: a crash restarts them.
import { startRequestExpiry } from "./request_expiry.ts";
import type { ServeDeps, Service, ServiceStarter } from "./service.ts";
import { supervise } from "./supervisor.ts";
import { firstAdminCommand } from "../core/config.ts";
import { startAuditForwarder } from "./audit_forwarder.ts";
import { startAuditCheckpoints } from "./audit_checkpoints.ts";
import { startDirectorySync } from "./directory_sync.ts";
import { startRdpService } from "./rdp_service.ts";
import { startSshService } from "./ssh_service.ts";
import { startWeb } from "../web/mod.ts";
import { startConversionService } from "../recorder/convert/mod.ts";
import { writeAudit } from "../db/audit.ts";
import { notifySessionKill } from "../db/notify.ts";
import { findSessionRef } from "../db/sessions.ts";
import type { ListenerStatus } from "../web/deps.ts";
import { reservedPoolAddresses } from "./pool_reserved.ts";
import { startNodeService } from "./node_service.ts";
import { startWebhookService } from "./webhook_service.ts";

const addr = (l: { host: string; port: number }) =>
  l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;

function setListeners(
  d: ServeDeps,
  name: string,
  list: { host: string; port: number }[],
  state: ListenerStatus["state"],
  detail?: string,
) {
  d.listeners.splice(0, d.listeners.length, ...d.listeners.filter((l) => l.name !== name));
  d.listeners.push(...list.map((l) => ({ name, address: addr(l), state, detail })));
}

/** Wraps a worker-based service in the supervisor, reporting its listeners, restarts and late starts. */
function supervised(
  name: string,
  listen: (d: ServeDeps) => { host: string; port: number }[],
  start: (d: ServeDeps) => Promise<Service & { exited?: Promise<string> }>,
): ServiceStarter {
  return (d) => {
    const log = d.log.child(name);
    const setUp = (up: boolean) => d.metrics.serviceUp.set({ service: name }, up ? 1 : 0);
    const audit = (
      action: "system.worker_restart" | "system.service_started",
      details: Record<string, unknown>,
    ) =>
      writeAudit(d.sql, { actor: "system", action, target: name, success: true, details }, d.config.nodeId)
        .catch((e) => log.error("audit write failed", { action, error: (e as Error).message }));
    return supervise(name, async () => {
      let svc;
      try {
        svc = await start(d);
      } catch (e) {
        // a port held by another program: shown as down (with why) until a retry binds it
        setListeners(d, name, listen(d), "down", (e as Error).message);
        setUp(false);
        throw e;
      }
      setListeners(d, name, listen(d), "up");
      setUp(true);
      svc.exited?.then((reason) => {
        // keep what the dead worker counted; its successor reports under the same name from zero
        d.hub.retire(name);
        setListeners(d, name, listen(d), "down", reason);
        setUp(false);
      });
      return svc;
    }, {
      log,
      onRestart: async (service, reason, attempt) => {
        d.metrics.workerRestarts.inc({ service });
        await audit("system.worker_restart", { reason, attempt });
      },
      onStarted: (_service, info) =>
        audit("system.service_started", {
          attempt: info.attempt,
          last_error: info.lastError,
          down_ms: info.downMs,
        }),
    });
  };
}

const ssh = supervised("ssh", (d) => d.config.sshListen, async (d) => {
  const service = startSshService(d.config, {
    dbTarget: d.dbTarget,
    log: d.log.child("ssh"),
    onMetrics: (families) => d.hub.update("ssh", families),
  });
  await service.ready;
  return service;
});

const rdp = supervised("rdp", (d) => d.config.rdpListen, (d) =>
  startRdpService({
    config: d.config,
    dbTarget: d.dbTarget,
    log: d.log.child("rdp"),
    tlsCertPath: d.config.rdpTlsCert,
    tlsKeyPath: d.config.rdpTlsKey,
    onMetrics: (families) => d.hub.update("rdp", families),
  }));

const web: ServiceStarter = async (d) => {
  const start = (config: typeof d.config) =>
    startWeb(config, {
      sql: d.sql,
      nodeId: config.nodeId,
      nodeLostAfterS: config.nodeLostAfter,
      requestWaitMinutes: config.requestWaitMinutes,
      firstAdminCommand: firstAdminCommand(config.profile),
      // the configuration being served (after SIGHUP the new one: serve replaces d.config only afterwards)
      ops: { hub: d.hub, metricsToken: config.metricsToken },
      reservedPoolIps: () => reservedPoolAddresses(config),
      dbHealth: d.dbHealth,
      log: (level, message) => d.log.child("web")[level](message),
      listenerStatus: () => [
        ...d.listeners,
        ...d.config.webListen.map((l) => ({ name: "web", address: addr(l), state: "up" as const })),
      ],
      async killSession(sessionId, actor) {
        const ref = await findSessionRef(d.sql, sessionId);
        if (!ref || !ref.is_active) return false;
        await notifySessionKill(d.sql, { session_id: ref.session_id, actor });
        return true;
      },
    });
  let server = await start(d.config);
  return {
    name: "web",
    stop: () => server.stop(),
    // new certificates or listen addresses: serve again; if the new settings fail, the old ones come back
    async reload(next) {
      await server.stop();
      try {
        server = await start(next);
      } catch (e) {
        server = await start(d.config);
        throw e;
      }
    },
  };
};

export const SERVICES: [string, ServiceStarter][] = [
  // first up, last down: the node is registered before sessions name it, and marked stopped after they closed
  ["nodes", (d) => startNodeService(d)],
  ["audit-checkpoints", startAuditCheckpoints],
  ["ssh", ssh],
  ["rdp", rdp],
  ["conversions", (d) => startConversionService({ ...d, log: d.log.child("conversions") })],
  ["web", web],
  ["directory", startDirectorySync],
  ["syslog", (d) => startAuditForwarder({ ...d, onSendError: () => d.metrics.syslogErrors.inc() })],
  ["webhooks", startWebhookService],
  ["requests", (d) => startRequestExpiry(d)],
];
