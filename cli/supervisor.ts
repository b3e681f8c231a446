// Keeps a service running: when its worker dies, it is restarted with exponential backoff (reset after a
// healthy minute), with a log line and an audit row each time.
import type { Logger } from "./log.ts";
import type { Config } from "./config.ts";

export interface Supervisable {
  name: string;
  stop(): Promise<void>;
  /** resolves when the service ended on its own (a crashed worker); never resolves for in-process services */
  exited?: Promise<string>;
  /** SIGHUP: apply a new configuration without a restart where possible */
  reload?(config: Config): Promise<void>;
}

export interface SupervisorDeps {
  log: Logger;
  onRestart?: (name: string, reason: string, attempt: number) => void | Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
}

export async function supervise(
  name: string,
  start: () => Promise<Supervisable>,
  deps: SupervisorDeps,
): Promise<Supervisable & { restarts(): number }> {
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  let current = await start();
  let stopping = false;
  let restarts = 0;
  const wake = Promise.withResolvers<void>();
  const loop = (async () => {
    let attempt = 0;
    while (!stopping) {
      const startedAt = now();
      const reason = await Promise.race([
        current.exited ?? new Promise<string>(() => {}),
        wake.promise.then(() => null),
      ]);
      if (stopping || reason === null) return;
      if (now() - startedAt > 60_000) attempt = 0;
      const delay = backoffMs(attempt++);
      deps.log.error("service died; restarting", { service: name, reason, attempt, delay_ms: delay });
      await sleep(delay);
      if (stopping) return;
      try {
        current = await start();
        restarts++;
        deps.log.info("service restarted", { service: name, attempt });
        await deps.onRestart?.(name, reason, attempt);
      } catch (e) {
        deps.log.error("restart failed", { service: name, error: (e as Error).message });
        current = {
          name,
          stop: async () => {},
          exited: Promise.resolve(`restart failed: ${(e as Error).message}`),
        };
      }
    }
  })();
  return {
    name,
    restarts: () => restarts,
    reload: (config) => current.reload?.(config) ?? Promise.resolve(),
    async stop() {
      stopping = true;
      wake.resolve();
      await loop;
      await current.stop();
    },
  };
}
