// Main-isolate side of the SSH proxy: runs it in a worker (proxy/ssh/ssh_worker.ts) through worker_host.ts,
// which forwards its logs and reports a crash through `exited` so the serve supervisor can restart it.
import type { Config, ListenAddress } from "../core/config.ts";
import type { DbTarget } from "../db/client.ts";
import type { SshWorkerOptions } from "../proxy/messages.ts";
import type { Log } from "../proxy/ssh/runtime.ts";
import type { MetricFamily } from "../core/metrics/registry.ts";
import { startWorkerHost, type WorkerHost } from "./worker_host.ts";

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

export interface SshService extends WorkerHost {
  name: "ssh";
  /** resolves once every configured address listens; rejects if the worker could not start */
  ready: Promise<ListenAddress[]>;
}

export function startSshService(config: Config, deps: SshServiceDeps): SshService {
  const host = startWorkerHost({
    label: "SSH",
    module: new URL("../proxy/ssh/ssh_worker.ts", import.meta.url),
    config,
    dbTarget: deps.dbTarget,
    options: deps.options ?? {},
    log: deps.log,
    startTimeoutMs: deps.startTimeoutMs,
    onMetrics: deps.onMetrics,
  });
  return { name: "ssh", ...host };
}
