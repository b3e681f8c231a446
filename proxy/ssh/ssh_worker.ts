// The SSH proxy's worker isolate: its own database pool, policy snapshot and listeners, driven by the
// typed messages of proxy/messages.ts from startSshService (service.ts).
/// <reference lib="deno.worker" />
import { connect, type Sql } from "../../db/client.ts";
import { UtmpWriter } from "../../recorder/utmp.ts";
import type { LogLevel, MainToWorker, SshWorkerOptions, WorkerStart, WorkerToMain } from "../messages.ts";
import { scaledClock, systemClock } from "./clock.ts";
import { backendKeyLoader, loadOrCreateHostKeys } from "./host_keys.ts";
import type { Log } from "./runtime.ts";
import { createSshProxy, type SshProxy } from "./server.ts";
import { startWorkerMetrics } from "../worker_metrics.ts";

const post = (m: WorkerToMain) => self.postMessage(m);
let sql: Sql | null = null;
let proxy: SshProxy | null = null;
let stopping = false;
const metrics = startWorkerMetrics(post);

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function workerLog(min: LogLevel): Log {
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] >= ORDER[min]) post({ type: "log", level, msg, fields });
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

async function start(m: WorkerStart<SshWorkerOptions>): Promise<void> {
  const c = m.config;
  const log = workerLog(c.logLevel);
  try {
    sql = connect(m.dbTarget, { max: 8, appName: "jumphost-ssh" });
    await Deno.mkdir(c.recordingsDir, { recursive: true, mode: 0o700 });
    const factor = m.options.clockFactor ?? 1;
    proxy = await createSshProxy({
      sql,
      nodeId: c.nodeId,
      hostKeys: await loadOrCreateHostKeys(c.dataDir),
      recordingsDir: c.recordingsDir,
      clock: factor === 1 ? systemClock : scaledClock(factor),
      log,
      utmp: c.utmpFile || c.wtmpFile ? new UtmpWriter(c.utmpFile, c.wtmpFile) : null,
      applianceKeyFor: backendKeyLoader(c.dataDir),
      metrics: metrics.metrics,
    });
    const addresses = await proxy.listen(c.sshListen);
    post({ type: "ready", addresses });
  } catch (e) {
    await fatal(`SSH proxy failed to start: ${(e as Error).message}`);
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await proxy?.close("shutdown").catch(() => {});
  await sql?.end({ timeout: 5 }).catch(() => {});
  metrics.stop();
  post({ type: "stopped" });
  self.close();
}

async function fatal(error: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  post({ type: "fatal", error });
  await proxy?.close("error").catch(() => {});
  await sql?.end({ timeout: 2 }).catch(() => {});
  self.close();
}

self.onmessage = (ev: MessageEvent<MainToWorker<SshWorkerOptions>>) => {
  const m = ev.data;
  switch (m.type) {
    case "start":
      void start(m);
      break;
    case "reload":
      // host keys and listeners stay as they are: changing them under live clients would break them
      post({
        type: "log",
        level: "info",
        msg: "SSH proxy: configuration reload needs a restart for listen addresses",
      });
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

// an error nothing caught leaves the proxy in an unknown state: report it so the supervisor restarts us
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  void fatal(`unhandled rejection: ${String((e.reason as Error)?.stack ?? e.reason)}`);
});
self.addEventListener("error", (e) => {
  e.preventDefault();
  void fatal(`uncaught error: ${e.message}`);
});
