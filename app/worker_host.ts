// Main-isolate side of a proxy worker (SSH, RDP): spawns the worker module, sends it "start", forwards its
// logs and metrics, and reports a crash through `exited` so the serve supervisor can restart it. Each
// protocol's service (ssh_service.ts, rdp_service.ts) adds only what differs (its module, start options,
// the shape it returns).
import type { Config, ListenAddress } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { DbTarget } from "../db/client.ts";
import type { MetricFamily } from "../core/metrics/registry.ts";
import type { MainToWorker, WorkerToMain } from "../proxy/messages.ts";

export type HostLog = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface WorkerHostDeps<Options> {
  /** names the worker in log lines and errors ("SSH", "RDP") */
  label: string;
  /** the worker module (listed for `deno compile --include`) */
  module: URL;
  config: Config;
  /** where the worker finds the database (the main process owns an embedded cluster) */
  dbTarget: DbTarget;
  options: Options;
  log: HostLog;
  /** how long to wait for the listeners (default 30 s) */
  startTimeoutMs?: number;
  /** how long a graceful stop may take before the worker is terminated (default 15 s) */
  stopTimeoutMs?: number;
  /** the worker's metric families (every few seconds and when it stops) */
  onMetrics?: (families: MetricFamily[]) => void;
}

export interface WorkerHost {
  /** resolves once every configured address listens; rejects if the worker could not start */
  ready: Promise<ListenAddress[]>;
  /** resolves with a reason when the worker died on its own; never after stop() */
  exited: Promise<string>;
  /** SIGHUP: passes the new configuration to the worker */
  reload(config: Config): Promise<void>;
  /** ends every session (reason shutdown), closes their rows, stops the worker */
  stop(): Promise<void>;
}

/** After a "fatal", the worker closes its sockets itself; it is terminated for sure after this long. */
const FATAL_GRACE_MS = 2000;

export function startWorkerHost<Options>(deps: WorkerHostDeps<Options>): WorkerHost {
  const { label, log } = deps;
  const worker = new Worker(deps.module, { type: "module", name: `jumphost-${label.toLowerCase()}` });
  const ready = Promise.withResolvers<ListenAddress[]>();
  const exited = Promise.withResolvers<string>();
  const stopped = Promise.withResolvers<void>();
  let started = false, stopping = false, terminated = false;
  const terminate = () => {
    if (terminated) return;
    terminated = true;
    clearTimeout(startTimer);
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
        clearTimeout(startTimer);
        log.info(`${label} proxy ready`, { addresses: m.addresses });
        ready.resolve(m.addresses);
        break;
      case "fatal":
        // before "ready", the reason travels in the rejection of `ready` and its awaiter reports it (the
        // supervisor: one line per start attempt); a second error line here would only repeat it
        if (started) log.error(`${label} worker failed`, { error: m.error });
        else log.debug(`${label} worker failed to start`, { error: m.error });
        setTimeout(() => died(m.error), FATAL_GRACE_MS);
        break;
      case "stopped":
        terminate();
        break;
      case "log":
        log[m.level](m.msg, m.fields);
        break;
      case "metrics":
        deps.onMetrics?.(m.families);
        break;
      default: {
        const never: never = m;
        log.error(`unknown message from the ${label} worker`, { message: JSON.stringify(never) });
      }
    }
  };
  // an error the worker's own handlers did not catch
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    died(`${label} worker crashed: ${e.message}`);
  };
  const send = (m: MainToWorker<Options>) => worker.postMessage(m);
  send({ type: "start", config: deps.config, dbTarget: deps.dbTarget, options: deps.options });
  const startMs = deps.startTimeoutMs ?? 30_000;
  const startTimer = setTimeout(() => died(`${label} worker not ready within ${startMs} ms`), startMs);
  ready.promise.catch(() => {});
  return {
    ready: ready.promise,
    exited: exited.promise,
    reload(config) {
      if (!terminated) send({ type: "reload", config });
      return Promise.resolve();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (terminated) return;
      send({ type: "stop" });
      const t = setTimeout(terminate, deps.stopTimeoutMs ?? 15_000);
      await stopped.promise;
      clearTimeout(t);
    },
  };
}
