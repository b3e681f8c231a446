// Test-only: lets an e2e test crash a real listener worker the way a bug would (an error thrown from a
// timer that nothing catches), so the restart path of `serve` is exercised end to end. Off unless the
// environment names the worker when it starts (JUMPHOST_TEST_CRASH_HOOKS=ssh, =rdp or =ssh,rdp); then
// SIGUSR2 to the process makes that worker throw. No attack surface: only whoever sets the service's
// environment and may signal the process (and so could kill it anyway) can use it.
import type { Logger } from "../core/log.ts";

export const CRASH_HOOKS_ENV = "JUMPHOST_TEST_CRASH_HOOKS";
export const CRASH_SIGNAL: Deno.Signal = "SIGUSR2";

export class WorkerCrashHookError extends Error {
  readonly code = "test_crash_hook";
}

/** Whether the variable's value (a comma list of worker names) enables the hook of this worker. */
export function crashHookEnabled(value: string | undefined, worker: string): boolean {
  return (value ?? "").split(",").some((w) => w.trim().toLowerCase() === worker.toLowerCase());
}

/** Installs the hook in this worker isolate when the environment asks for it. */
export function installCrashHook(worker: string, log: Logger): void {
  const perm = Deno.permissions.querySync({ name: "env", variable: CRASH_HOOKS_ENV });
  if (perm.state !== "granted" || !crashHookEnabled(Deno.env.get(CRASH_HOOKS_ENV), worker)) return;
  log.warn(`${worker} worker: test crash hook enabled; ${CRASH_SIGNAL} makes it crash`, {
    env: CRASH_HOOKS_ENV,
  });
  Deno.addSignalListener(CRASH_SIGNAL, () => {
    setTimeout(() => {
      throw new WorkerCrashHookError(`${worker} worker crashed on ${CRASH_SIGNAL} (test crash hook)`);
    }, 0);
  });
}
