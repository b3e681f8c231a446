// Typed messages between the main isolate and a proxy worker. Every worker speaks this envelope: one
// "start" with the resolved configuration and where its database is (the main process owns an embedded
// cluster; workers only connect), "stop" to shut down gracefully, and ready/fatal/stopped/log back.
// A worker with extra start parameters puts them in `options`.
import type { Config, ListenAddress } from "../core/config.ts";
import type { DbTarget } from "../db/client.ts";
import type { MetricFamily } from "../core/metrics/registry.ts";

export interface WorkerStart<Options = Record<string, never>> {
  type: "start";
  config: Config;
  dbTarget: DbTarget;
  options: Options;
}

export type MainToWorker<Options = Record<string, never>> =
  | WorkerStart<Options>
  /** SIGHUP: new configuration; the worker applies what it can without dropping sessions */
  | { type: "reload"; config: Config }
  | { type: "stop" };

export type LogLevel = "debug" | "info" | "warn" | "error";

export type WorkerToMain =
  | { type: "ready"; addresses: ListenAddress[] }
  /** the worker cannot go on (start failed, or an error nothing caught); it closes itself */
  | { type: "fatal"; error: string }
  | { type: "stopped" }
  | { type: "log"; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  /** the worker's metric families, replacing its previous report in the main isolate's hub */
  | { type: "metrics"; families: MetricFamily[] };

/** Options of the SSH worker. */
export interface SshWorkerOptions {
  /** run the policy clock this many times faster (tests and demos only); 1 in production */
  clockFactor?: number;
}
