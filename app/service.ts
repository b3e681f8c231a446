// What a running part of the appliance is, and what serve hands each one when it starts it.
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { JumphostMetrics, MetricsHub } from "../core/metrics/mod.ts";
import type { DbTarget, Sql } from "../db/client.ts";
import type { DbHealth, ListenerStatus } from "../web/deps.ts";

/** A running part of the appliance. */
export interface Service {
  name: string;
  stop(): Promise<void>;
  /** SIGHUP: apply a new configuration (certificates, console listeners) without dropping sessions */
  reload?(config: Config): Promise<void>;
  /** supervised services: "retrying" while down (a failed start or a crash) with another start scheduled */
  state?(): "up" | "retrying";
}

export interface ServeDeps {
  config: Config;
  sql: Sql;
  /** how workers reach the same database with their own pools */
  dbTarget: DbTarget;
  log: Logger;
  /** every isolate's metrics, summed for /metrics */
  hub: MetricsHub;
  /** this isolate's metric handles */
  metrics: JumphostMetrics;
  /** listener states shown on the dashboard and by doctor */
  listeners: ListenerStatus[];
  /** the database as serve's probe sees it (app/db_watch.ts) */
  dbHealth?: () => DbHealth;
}

export type ServiceStarter = (deps: ServeDeps) => Promise<Service>;
