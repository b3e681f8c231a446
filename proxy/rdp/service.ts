// Main-isolate side of the RDP proxy: runs it in a worker (rdp_worker.ts) and reports a crash through
// `exited`, so the serve supervisor can restart it.
import type { Config } from "../../cli/config.ts";
import type { Logger } from "../../cli/log.ts";
import type { DbTarget } from "../../db/client.ts";
import type { MetricFamily } from "../../web/ops/registry.ts";
import type { MainToWorker, RdpWorkerOptions, WorkerToMain } from "./messages.ts";

export interface RdpServiceDeps {
  config: Config;
  dbTarget: DbTarget;
  log: Logger;
  /** Operator-provided certificate and key (PEM paths); both or neither. */
  tlsCertPath?: string | null;
  tlsKeyPath?: string | null;
  /** How long to wait for the worker to listen (default 30 s). */
  startTimeoutMs?: number;
  /** The worker's metric families (every few seconds and when it stops). */
  onMetrics?: (families: MetricFamily[]) => void;
}

export interface RdpService {
  name: "rdp";
  stop(): Promise<void>;
  /** SIGHUP: the worker reloads its certificate (live sessions continue). */
  reload(config: Config): Promise<void>;
  /** Resolves with a reason when the worker died on its own; never after stop(). */
  exited: Promise<string>;
}

export function startRdpService(deps: RdpServiceDeps): Promise<RdpService> {
  const worker = new Worker(new URL("./rdp_worker.ts", import.meta.url), { type: "module" });
  const ready = Promise.withResolvers<void>();
  const exited = Promise.withResolvers<string>();
  const stopped = Promise.withResolvers<void>();
  let started = false;
  let stopping = false;
  let terminated = false;
  const terminate = () => {
    if (terminated) return;
    terminated = true;
    worker.terminate();
    stopped.resolve();
  };
  const died = (reason: string) => {
    terminate();
    if (!started) ready.reject(new Error(reason));
    else if (!stopping) exited.resolve(reason);
  };
  worker.onmessage = (ev: MessageEvent<WorkerToMain>) => {
    const m = ev.data;
    switch (m.type) {
      case "ready":
        started = true;
        deps.log.info("RDP proxy ready", { addresses: m.addresses });
        ready.resolve();
        break;
      case "fatal":
        deps.log.error("RDP worker failed", { error: m.error });
        // give the worker a moment to close its sockets, then make sure it is gone
        setTimeout(() => died(m.error), 2000);
        break;
      case "stopped":
        terminate();
        break;
      case "metrics":
        deps.onMetrics?.(m.families);
        break;
      case "log":
        deps.log[m.level](m.msg, m.fields);
        break;
      default: {
        const never: never = m;
        deps.log.error("unknown message from the RDP worker", { message: JSON.stringify(never) });
      }
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    died(`RDP worker crashed: ${e.message}`);
  };
  const send = (m: MainToWorker<RdpWorkerOptions>) => worker.postMessage(m);
  send({
    type: "start",
    config: deps.config,
    dbTarget: deps.dbTarget,
    options: { tlsCertPath: deps.tlsCertPath ?? null, tlsKeyPath: deps.tlsKeyPath ?? null },
  });
  const timeoutMs = deps.startTimeoutMs ?? 30_000;
  const timer = setTimeout(() => died(`RDP worker not ready within ${timeoutMs} ms`), timeoutMs);
  return ready.promise.finally(() => clearTimeout(timer)).then(() => ({
    name: "rdp" as const,
    exited: exited.promise,
    reload(config: Config) {
      if (!terminated) send({ type: "reload", config });
      return Promise.resolve();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (terminated) return;
      send({ type: "stop" });
      const t = setTimeout(terminate, 10_000);
      await stopped.promise;
      clearTimeout(t);
    },
  }));
}
