// Keeps a service running. A first start that fails (its port is held by another program, say) is logged
// and retried with backoff until it works or the service is stopped, so the appliance heals once the cause
// is gone. When its worker dies later, it is restarted with exponential backoff (reset after a healthy
// minute), with a log line and an audit row each time. stop() interrupts any backoff wait at once.
import type { Logger } from "../core/log.ts";
import type { Config } from "../core/config.ts";

export interface Supervisable {
  name: string;
  stop(): Promise<void>;
  /** resolves when the service ended on its own (a crashed worker); never resolves for in-process services */
  exited?: Promise<string>;
  /** SIGHUP: apply a new configuration without a restart where possible */
  reload?(config: Config): Promise<void>;
}

/** "retrying": not running now (its start failed or it crashed); another start is scheduled */
export type SupervisedState = "up" | "retrying";

export interface Supervised extends Supervisable {
  restarts(): number;
  state(): SupervisedState;
}

export interface StartedAfterRetry {
  /** the attempt that worked (2 or more) */
  attempt: number;
  /** why the attempt before it failed */
  lastError: string;
  /** since the first attempt began */
  downMs: number;
}

export interface SupervisorDeps {
  log: Logger;
  onRestart?: (name: string, reason: string, attempt: number) => void | Promise<void>;
  /** the service came up after its first start failed */
  onStarted?: (name: string, info: StartedAfterRetry) => void | Promise<void>;
  /** waits `ms`; should end early (resolve) when `signal` aborts */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

export function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

const message = (e: unknown) => e instanceof Error ? e.message : String(e);

/**
 * Starts the service once (awaited, so the caller knows whether it is up) and keeps it running until
 * stop(). Never rejects: a failed first start leaves it in state "retrying".
 */
export async function supervise(
  name: string,
  start: () => Promise<Supervisable>,
  deps: SupervisorDeps,
): Promise<Supervised> {
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const stopping = new AbortController();
  const stopped = new Promise<"stopped">((r) =>
    stopping.signal.addEventListener("abort", () => r("stopped"))
  );
  /** waits, or less once stop() is called; true when stopping */
  const pause = async (ms: number) => {
    await Promise.race([sleep(ms, stopping.signal), stopped]);
    return stopping.signal.aborted;
  };
  // the instance last started (it may have died since); null until a start has worked
  let current: Supervisable | null = null;
  let up = false;
  let restarts = 0;

  const firstAt = now();
  let lastError = "";
  /** one try of the first start; logs one line when it fails */
  const tryFirst = async (attempt: number): Promise<boolean> => {
    try {
      current = await start();
      up = true;
      return true;
    } catch (e) {
      lastError = message(e);
      if (stopping.signal.aborted) return false;
      const delay = backoffMs(attempt - 1);
      deps.log.error("service failed to start", {
        service: name,
        error: lastError,
        attempt,
        retry_in_ms: delay,
      });
      return false;
    }
  };

  /** until the first start works; false when stopped before */
  const retryFirst = async (): Promise<boolean> => {
    for (let attempt = 2;; attempt++) {
      if (await pause(backoffMs(attempt - 2))) return false;
      if (!(await tryFirst(attempt))) continue;
      if (stopping.signal.aborted) return false; // stop() stops it
      const info = { attempt, lastError, downMs: now() - firstAt };
      deps.log.info("service started", { service: name, attempt, down_ms: info.downMs });
      await deps.onStarted?.(name, info);
      return true;
    }
  };

  /** restarts the service whenever its worker dies */
  const watch = async () => {
    let attempt = 0;
    while (!stopping.signal.aborted && current) {
      const startedAt = now();
      const reason = await Promise.race([current.exited ?? new Promise<string>(() => {}), stopped]);
      if (stopping.signal.aborted) return;
      up = false;
      if (now() - startedAt > 60_000) attempt = 0;
      const delay = backoffMs(attempt++);
      deps.log.error("service died; restarting", { service: name, reason, attempt, delay_ms: delay });
      if (await pause(delay)) return;
      try {
        current = await start();
        up = true;
        restarts++;
        deps.log.info("service restarted", { service: name, attempt });
        await deps.onRestart?.(name, reason, attempt);
      } catch (e) {
        deps.log.error("restart failed", { service: name, error: message(e) });
        current = { name, stop: async () => {}, exited: Promise.resolve(`restart failed: ${message(e)}`) };
      }
    }
  };

  const firstWorked = await tryFirst(1);
  const loop = (async () => {
    if (!firstWorked && !(await retryFirst())) return;
    await watch();
  })();
  return {
    name,
    restarts: () => restarts,
    state: () => up ? "up" : "retrying",
    reload: (config) => current?.reload?.(config) ?? Promise.resolve(),
    async stop() {
      stopping.abort();
      await loop;
      up = false;
      await current?.stop();
    },
  };
}
