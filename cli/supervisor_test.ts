import assert from "node:assert/strict";
import { backoffMs, supervise } from "./supervisor.ts";
import { createLogger } from "./log.ts";

Deno.test("supervise() restarts a crashed service with backoff and stops cleanly", async () => {
  const lines: string[] = [];
  const log = createLogger("info", "test", (l) => lines.push(l));
  const crashes: ((reason: string) => void)[] = [];
  let started = 0, stopped = 0;
  const start = () => {
    started++;
    const exited = new Promise<string>((r) => crashes.push(r));
    return Promise.resolve({ name: "w", exited, stop: () => Promise.resolve(void stopped++) });
  };
  const delays: number[] = [];
  const restarted: string[] = [];
  const s = await supervise("w", start, {
    log,
    sleep: (ms) => Promise.resolve(void delays.push(ms)),
    onRestart: (n, reason) => void restarted.push(`${n}:${reason}`),
  });
  crashes[0]("worker error: boom");
  await new Promise((r) => setTimeout(r, 10));
  crashes[1]("worker error: again");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(started, 3);
  assert.equal(s.restarts(), 2);
  assert.deepEqual(delays, [backoffMs(0), backoffMs(1)]);
  assert.deepEqual(restarted, ["w:worker error: boom", "w:worker error: again"]);
  assert.ok(lines.some((l) => l.includes("service died; restarting")));
  assert.equal(lines.filter((l) => l.includes('"msg":"service restarted"')).length, 2);
  await s.stop();
  assert.equal(stopped, 1, "only the live instance is stopped");
});

Deno.test("backoffMs() grows and caps at 30 s", () => {
  assert.deepEqual([0, 1, 2, 3].map(backoffMs), [500, 1000, 2000, 4000]);
  assert.equal(backoffMs(20), 30_000);
});

Deno.test("supervise() retries a failed restart with growing backoff and resets it after a healthy minute", async () => {
  const lines: string[] = [];
  const log = createLogger("info", "test", (l) => lines.push(l));
  const crashes: ((reason: string) => void)[] = [];
  let calls = 0;
  const start = () => {
    calls++;
    // the first restart fails (its port is still taken, say); the next one works
    if (calls === 2) return Promise.reject(new Error("cannot listen on 127.0.0.1:22"));
    const exited = new Promise<string>((r) => crashes.push(r));
    return Promise.resolve({ name: "w", exited, stop: () => Promise.resolve() });
  };
  let clock = 0;
  const delays: number[] = [];
  const s = await supervise("w", start, {
    log,
    now: () => clock,
    sleep: (ms) => Promise.resolve(void delays.push(ms)),
  });
  const tick = () => new Promise((r) => setTimeout(r, 10));
  crashes[0]("boom");
  await tick();
  assert.equal(calls, 3);
  assert.equal(s.restarts(), 1);
  assert.deepEqual(delays, [backoffMs(0), backoffMs(1)]);
  assert.ok(lines.some((l) => l.includes('"msg":"restart failed"') && l.includes("127.0.0.1:22")));
  // a crash right away keeps growing the delay; one after a healthy minute starts again from the first
  crashes[1]("again");
  await tick();
  assert.deepEqual(delays.at(-1), backoffMs(2));
  clock += 61_000;
  crashes[2]("much later");
  await tick();
  assert.deepEqual(delays.at(-1), backoffMs(0));
  await s.stop();
});
