// Main-isolate side of the RDP proxy: runs it in a worker (proxy/rdp/rdp_worker.ts) through worker_host.ts
// and reports a crash through `exited`, so the serve supervisor can restart it.
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { DbTarget } from "../db/client.ts";
import type { MetricFamily } from "../core/metrics/registry.ts";
import { startWorkerHost } from "./worker_host.ts";
import type { RdpWorkerOptions } from "../proxy/rdp/messages.ts";

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

/** Resolves once the worker listens; rejects (e.g. "cannot listen on …") when it could not start. */
export async function startRdpService(deps: RdpServiceDeps): Promise<RdpService> {
  const { ready, exited, reload, stop } = startWorkerHost<RdpWorkerOptions>({
    label: "RDP",
    module: new URL("../proxy/rdp/rdp_worker.ts", import.meta.url),
    config: deps.config,
    dbTarget: deps.dbTarget,
    options: { tlsCertPath: deps.tlsCertPath ?? null, tlsKeyPath: deps.tlsKeyPath ?? null },
    log: deps.log,
    startTimeoutMs: deps.startTimeoutMs,
    stopTimeoutMs: 10_000,
    onMetrics: deps.onMetrics,
  });
  await ready;
  return { name: "rdp", exited, reload, stop };
}
