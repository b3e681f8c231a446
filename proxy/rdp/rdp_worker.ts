// The RDP proxy's worker isolate: its own database pool, policy snapshot and listeners. Driven by
// typed messages from startRdpService (service.ts).
/// <reference lib="deno.worker" />
import { createLogger } from "../../cli/log.ts";
import { connect, type Sql } from "../../db/client.ts";
import type { MainToRdpWorker, RdpWorkerStart, RdpWorkerToMain } from "./messages.ts";
import { createRdpProxy, type RdpProxy } from "./proxy.ts";

const post = (m: RdpWorkerToMain) => self.postMessage(m);
let sql: Sql | null = null;
let proxy: RdpProxy | null = null;
let stopping = false;

async function start(m: RdpWorkerStart): Promise<void> {
  const log = createLogger(m.config.logLevel, "rdp");
  try {
    sql = connect(m.dbTarget, { max: 8, appName: "jumphost-rdp" });
    proxy = await createRdpProxy({
      sql,
      nodeId: m.config.nodeId,
      listen: m.config.rdpListen,
      dataDir: m.config.dataDir,
      recordingsDir: m.config.recordingsDir,
      log,
      tlsCertPath: m.tlsCertPath,
      tlsKeyPath: m.tlsKeyPath,
    });
    post({ type: "ready", addresses: proxy.addresses });
  } catch (e) {
    await fatal(`RDP proxy failed to start: ${(e as Error).message}`);
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await proxy?.stop().catch(() => {});
  await sql?.end({ timeout: 5 }).catch(() => {});
  post({ type: "stopped" });
  self.close();
}

async function fatal(error: string): Promise<void> {
  if (stopping) return;
  post({ type: "fatal", error });
  stopping = true;
  await proxy?.stop().catch(() => {});
  await sql?.end({ timeout: 2 }).catch(() => {});
  self.close();
}

self.onmessage = (ev: MessageEvent<MainToRdpWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case "start":
      void start(m);
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

// an error nothing caught would leave the proxy in an unknown state: report it and let the supervisor restart us
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  void fatal(`unhandled rejection: ${String((e.reason as Error)?.stack ?? e.reason)}`);
});
self.addEventListener("error", (e) => {
  e.preventDefault();
  void fatal(`uncaught error: ${e.message}`);
});
