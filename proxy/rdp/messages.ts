// The RDP worker speaks the shared worker envelope of proxy/messages.ts; these are its start options.
export type { LogLevel, MainToWorker, WorkerStart, WorkerToMain } from "../messages.ts";

export interface RdpWorkerOptions {
  /** Operator-provided certificate and key for RDP clients (else generated under the data dir). */
  tlsCertPath?: string | null;
  tlsKeyPath?: string | null;
}
