// Main-isolate side of the SSH proxy: runs it in a worker (ssh_worker.ts), forwards its logs, and reports
// a crash through `exited` so the serve supervisor can restart it.
import type { Config, ListenAddress } from "../../cli/config.ts";
import type { DbTarget } from "../../db/client.ts";
import type { MainToWorker, SshWorkerOptions, WorkerToMain } from "../messages.ts";
import type { Log } from "./runtime.ts";
import type { MetricFamily } from "../../web/ops/registry.ts";

export interface SshServiceDeps {
  log: Log;
  /** where the worker finds the database (the main process owns an embedded cluster) */
  dbTarget: DbTarget;
  options?: SshWorkerOptions;
  /** how long to wait for the listeners (default 30 s) */
  startTimeoutMs?: number;
  /** the worker's metric families (every few seconds and when it stops) */
  onMetrics?: (families: MetricFamily[]) => void;
}

export interface SshService {
  name: "ssh";
  /** resolves once every configured address listens; rejects if the worker could not start */
  ready: Promise<ListenAddress[]>;
  /** ends every session (reason shutdown), closes their rows, stops the worker */
  stop(): Promise<void>;
  /** SIGHUP: passes the new configuration to the worker */
  reload(config: Config): Promise<void>;
  /** resolves with a reason when the worker died on its own; never after stop() */
  exited: Promise<string>;
}

export function startSshService(config: Config, deps: SshServiceDeps): SshService {
  const worker = new Worker(new URL("./ssh_worker.ts", import.meta.url), { type: "module" });
  const ready = Promise.withResolvers<ListenAddress[]>();
  const exited = Promise.withResolvers<string>();
  const stopped = Promise.withResolvers<void>();
  let started = false, stopping = false, terminated = false;
  const terminate = () => {
    if (terminated) return;
    terminated = true;
    clearTimeout(timer);
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
        clearTimeout(timer);
        deps.log.info("SSH proxy ready", { addresses: m.addresses });
        ready.resolve(m.addresses);
        break;
      case "fatal":
        deps.log.error("SSH worker failed", { error: m.error });
        // the worker closes its sockets itself; make sure it is gone after a moment
        setTimeout(() => died(m.error), 2000);
        break;
      case "stopped":
        terminate();
        break;
      case "log":
        deps.log[m.level](m.msg, m.fields);
        break;
      case "metrics":
        deps.onMetrics?.(m.families);
        break;
      default: {
        const never: never = m;
        deps.log.error("unknown message from the SSH worker", { message: JSON.stringify(never) });
      }
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    died(`SSH worker crashed: ${e.message}`);
  };
  const send = (m: MainToWorker<SshWorkerOptions>) => worker.postMessage(m);
  send({ type: "start", config, dbTarget: deps.dbTarget, options: deps.options ?? {} });
  const timeoutMs = deps.startTimeoutMs ?? 30_000;
  const timer = setTimeout(() => died(`SSH worker not ready within ${timeoutMs} ms`), timeoutMs);
  ready.promise.catch(() => {});
  return {
    name: "ssh",
    ready: ready.promise,
    exited: exited.promise,
    reload(c: Config) {
      if (!terminated) send({ type: "reload", config: c });
      return Promise.resolve();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (terminated) return;
      send({ type: "stop" });
      const t = setTimeout(terminate, 15_000);
      await stopped.promise;
      clearTimeout(t);
    },
  };
}
