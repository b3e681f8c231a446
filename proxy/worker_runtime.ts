// Worker-isolate side of a proxy worker (SSH, RDP): the message loop of proxy/messages.ts, the database
// pool, logs and metrics sent to the main isolate, graceful stop, and a "fatal" report for anything
// nothing caught so the supervisor restarts the worker. A protocol's worker module gives only its start.
/// <reference lib="deno.worker" />
import type { Config, ListenAddress } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import { connect, type Sql } from "../db/client.ts";
import type { JumphostMetrics } from "../core/metrics/mod.ts";
import type { LogLevel, MainToWorker, WorkerStart, WorkerToMain } from "./messages.ts";
import { startWorkerMetrics } from "./worker_metrics.ts";
import { installCrashHook } from "./worker_crash_hook.ts";

export interface ProxyWorkerContext {
  sql: Sql;
  log: Logger;
  metrics: JumphostMetrics;
}

/** A proxy that listens, as its worker body started it. */
export interface RunningProxy {
  addresses: ListenAddress[];
  /** ends every session (with this reason) and closes the listeners */
  close(reason: "shutdown" | "error"): Promise<void>;
  /** SIGHUP: apply what can change without dropping sessions */
  reload(config: Config, log: Logger): void;
}

export interface ProxyWorkerBody<Options> {
  /** "SSH" or "RDP": names the proxy in messages */
  label: string;
  /** the database pool's application_name */
  appName: string;
  /** creates the proxy and binds its listeners; throws (after cleaning up) when it cannot */
  start(m: WorkerStart<Options>, ctx: ProxyWorkerContext): Promise<RunningProxy>;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function workerLog(post: (m: WorkerToMain) => void, min: LogLevel, component?: string): Logger {
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
    child: (c) => workerLog(post, min, component ? `${component}.${c}` : c),
  };
}

/** Runs this worker isolate: call once from the protocol's worker module. */
export function runProxyWorker<Options>(body: ProxyWorkerBody<Options>): void {
  const post = (m: WorkerToMain) => self.postMessage(m);
  const metrics = startWorkerMetrics(post);
  let sql: Sql | null = null;
  let proxy: RunningProxy | null = null;
  let log: Logger = workerLog(post, "info");
  let stopping = false;

  const start = async (m: WorkerStart<Options>) => {
    log = workerLog(post, m.config.logLevel);
    try {
      sql = connect(m.dbTarget, { max: 8, appName: body.appName });
      proxy = await body.start(m, { sql, log, metrics: metrics.metrics });
      installCrashHook(body.label, log);
      post({ type: "ready", addresses: proxy.addresses });
    } catch (e) {
      await fatal(`${body.label} proxy failed to start: ${(e as Error).message}`);
    }
  };
  const end = async (reason: "shutdown" | "error", dbTimeout: number) => {
    stopping = true;
    await proxy?.close(reason).catch((e) => log.error("closing the proxy failed", { error: String(e) }));
    await sql?.end({ timeout: dbTimeout }).catch(() => {});
  };
  const stop = async () => {
    if (stopping) return;
    await end("shutdown", 5);
    metrics.stop();
    post({ type: "stopped" });
    self.close();
  };
  const fatal = async (error: string) => {
    if (stopping) return;
    post({ type: "fatal", error });
    await end("error", 2);
    self.close();
  };

  self.onmessage = (ev: MessageEvent<MainToWorker<Options>>) => {
    const m = ev.data;
    switch (m.type) {
      case "start":
        void start(m);
        break;
      case "reload":
        proxy?.reload(m.config, log);
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
  // an error nothing caught leaves the proxy in an unknown state: report it so the supervisor restarts us
  // (the stack goes to the log; the reason, also written to the audit log, stays one line)
  self.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    const err = e.reason instanceof Error ? e.reason : null;
    log.error("unhandled rejection", { stack: err?.stack ?? String(e.reason) });
    void fatal(`unhandled rejection: ${err?.message ?? String(e.reason)}`);
  });
  self.addEventListener("error", (e) => {
    e.preventDefault();
    log.error("uncaught error", { stack: (e.error as Error | undefined)?.stack ?? e.message });
    void fatal(e.message);
  });
}
