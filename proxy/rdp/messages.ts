// Typed messages between the main isolate and the RDP worker.
import type { Config, ListenAddress } from "../../cli/config.ts";
import type { DbTarget } from "../../db/client.ts";

export interface RdpWorkerStart {
  type: "start";
  config: Config;
  dbTarget: DbTarget;
  /** Operator-provided certificate and key for RDP clients (else generated under the data dir). */
  tlsCertPath: string | null;
  tlsKeyPath: string | null;
}

export type MainToRdpWorker = RdpWorkerStart | { type: "stop" };

export type RdpWorkerToMain =
  | { type: "ready"; addresses: ListenAddress[] }
  /** The worker cannot go on (start failed or an unexpected error); it closes itself. */
  | { type: "fatal"; error: string }
  | { type: "stopped" };
