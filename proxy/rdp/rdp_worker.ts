// The RDP proxy's worker isolate: its own database pool, policy snapshot and listeners, driven by the
// typed messages of proxy/messages.ts from startRdpService (service.ts). Logs go to the main isolate.
/// <reference lib="deno.worker" />
import type { Logger } from "../../cli/log.ts";
import { connect, type Sql } from "../../db/client.ts";
import type { LogLevel, MainToWorker, RdpWorkerOptions, WorkerStart, WorkerToMain } from "./messages.ts";
import { createRdpProxy, type RdpProxy } from "./proxy.ts";
import { startWorkerMetrics } from "../worker_metrics.ts";

const post = (m: WorkerToMain) => self.postMessage(m);
let sql: Sql | null = null;
let proxy: RdpProxy | null = null;
let stopping = false;
const metrics = startWorkerMetrics(post);

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function workerLog(min: LogLevel, component?: string): Logger {
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] >= ORDER[min]) {
      post({ type: "log", level, msg, fields: component ? { component, ...fields } : fields });
    }
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (c) => workerLog(min, component ? `${component}.${c}` : c),
  };
}

async function start(m: WorkerStart<RdpWorkerOptions>): Promise<void> {
  const c = m.config;
  try {
    sql = connect(m.dbTarget, { max: 8, appName: "jumphost-rdp" });
    proxy = await createRdpProxy({
      sql,
      nodeId: c.nodeId,
      listen: c.rdpListen,
      dataDir: c.dataDir,
      recordingsDir: c.recordingsDir,
      log: workerLog(c.logLevel),
      tlsCertPath: m.options.tlsCertPath ?? null,
      tlsKeyPath: m.options.tlsKeyPath ?? null,
      metrics: metrics.metrics,
    });
    post({ type: "ready", addresses: proxy.addresses });
  } catch (e) {
    await fatal(`RDP proxy failed to start: ${(e as Error).message}`);
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await proxy?.stop().catch(() => {});
  await sql?.end({ timeout: 5 }).catch(() => {});
  metrics.stop();
  post({ type: "stopped" });
  self.close();
}

async function fatal(error: string): Promise<void> {
  if (stopping) return;
  post({ type: "fatal", error });
  stopping = true;
  await proxy?.stop().catch(() => {});
  await sql?.end({ timeout: 2 }).catch(() => {});
  self.close();
}

self.onmessage = (ev: MessageEvent<MainToWorker<RdpWorkerOptions>>) => {
  const m = ev.data;
  switch (m.type) {
    case "start":
      void start(m);
      break;
    case "reload":
      proxy?.reloadCertificate({ certPath: m.config.rdpTlsCert, keyPath: m.config.rdpTlsKey }).catch((e) =>
        post({
          type: "log",
          level: "error",
          msg: "RDP certificate reload failed; keeping the old one",
          fields: { error: (e as Error).message },
        })
      );
      break;
    case "stop":
      void stop();
      break;
    default: {
      const never: never = m;
      void fatal(`unknown message ${JSON.stringify(never)}`);
    }
  }
};

// an error nothing caught would leave the proxy in an unknown state: report it and let the supervisor restart us
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  void fatal(`unhandled rejection: ${String((e.reason as Error)?.stack ?? e.reason)}`);
});
self.addEventListener("error", (e) => {
  e.preventDefault();
  void fatal(`uncaught error: ${e.message}`);
});
