import assert from "node:assert/strict";
import { backoffMs, supervise } from "./supervisor.ts";
import { createLogger } from "../core/log.ts";

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

/** A start that fails `failures` times (as a taken port does), then works; counts calls and stops. */
function flakyStart(failures: number) {
  const calls = { started: 0, stopped: 0 };
  const start = () => {
    calls.started++;
    if (calls.started <= failures) {
      return Promise.reject(
        new Error(`cannot listen on 127.0.0.1:2222: address already in use (${calls.started})`),
      );
    }
    return Promise.resolve({ name: "ssh", stop: () => Promise.resolve(void calls.stopped++) });
  };
  return { start, calls };
}

Deno.test("supervise() retries a failed first start with backoff, one line per attempt, until it starts", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", "test", (l) => lines.push(JSON.parse(l)));
  const { start, calls } = flakyStart(3);
  let clock = 1_000;
  const waits: { ms: number; go: () => void }[] = [];
  const started: unknown[] = [];
  const s = await supervise("ssh", start, {
    log,
    now: () => clock,
    sleep: (ms) => new Promise<void>((go) => waits.push({ ms, go })),
    onStarted: (name, info) => void started.push({ name, ...info }),
  });
  const tick = () => new Promise((r) => setTimeout(r, 5));
  // the first attempt failed: supervise() resolved anyway, the service waits to retry
  assert.equal(s.state(), "retrying");
  assert.equal(calls.started, 1);
  for (let i = 0; i < 3; i++) {
    await tick();
    assert.equal(waits.length, i + 1, "one wait per failed attempt");
    assert.equal(s.state(), "retrying");
    clock += waits[i].ms + 100; // each attempt takes 100 ms
    waits[i].go();
  }
  await tick();
  assert.equal(calls.started, 4);
  assert.equal(s.state(), "up");
  assert.deepEqual(waits.map((w) => w.ms), [backoffMs(0), backoffMs(1), backoffMs(2)]);
  const failed = lines.filter((l) => l.msg === "service failed to start");
  assert.deepEqual(failed.map((l) => [l.level, l.service, l.attempt, l.retry_in_ms]), [
    ["error", "ssh", 1, 500],
    ["error", "ssh", 2, 1000],
    ["error", "ssh", 3, 2000],
  ]);
  assert.match(String(failed[0].error), /^cannot listen on 127\.0\.0\.1:2222: address already in use \(1\)$/);
  const up = lines.filter((l) => l.msg === "service started");
  assert.deepEqual(up.map((l) => [l.level, l.service, l.attempt, l.down_ms]), [["info", "ssh", 4, 3800]]);
  assert.deepEqual(started, [{
    name: "ssh",
    attempt: 4,
    lastError: "cannot listen on 127.0.0.1:2222: address already in use (3)",
    downMs: 3800,
  }]);
  assert.equal(s.restarts(), 0, "a late start is no restart");
  await s.stop();
  assert.equal(calls.stopped, 1);
});

Deno.test("supervise() stop() during a retry wait returns at once and starts nothing more", async () => {
  const log = createLogger("error", "test", () => {});
  const { start, calls } = flakyStart(Infinity);
  let waited = false;
  // a wait that would never end by itself: only stop() can cut it short
  const s = await supervise("rdp", start, {
    log,
    sleep: () => new Promise<void>(() => void (waited = true)),
  });
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(waited);
  await s.stop();
  assert.equal(calls.started, 1);
  assert.equal(calls.stopped, 0, "nothing ran, nothing to stop");
  assert.equal(s.state(), "retrying");
});

Deno.test("supervise() with the real clock: stop() cuts a backoff wait short and leaves no timer behind", async () => {
  const log = createLogger("error", "test", () => {});
  const { start, calls } = flakyStart(Infinity);
  const s = await supervise("ssh", start, { log });
  const t0 = performance.now();
  await s.stop(); // the sanitizers fail this test if the 500 ms backoff timer were left running
  assert.ok(performance.now() - t0 < 200, `stopped after ${performance.now() - t0} ms`);
  assert.equal(calls.started, 1);
});

Deno.test("supervise() stopped while a retried start is in flight stops what it started, without logging it up", async () => {
  const lines: string[] = [];
  const log = createLogger("info", "test", (l) => lines.push(l));
  let release = () => {};
  let calls = 0, stopped = 0;
  const start = () => {
    calls++;
    if (calls === 1) return Promise.reject(new Error("cannot listen on 127.0.0.1:22: in use"));
    // the second attempt takes a while (a worker coming up)
    return new Promise<{ name: string; stop: () => Promise<void> }>((r) => {
      release = () => r({ name: "ssh", stop: () => Promise.resolve(void stopped++) });
    });
  };
  const onStarted = () => assert.fail("not reported as started while stopping");
  const s = await supervise("ssh", start, { log, sleep: () => Promise.resolve(), onStarted });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(calls, 2);
  const stopping = s.stop();
  release();
  await stopping;
  assert.equal(stopped, 1, "the instance that came up during stop() is stopped");
  assert.ok(!lines.some((l) => l.includes('"msg":"service started"')));
});

Deno.test("supervise() keeps retrying a first start that fails for long, the wait capped at 30 s", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", "test", (l) => lines.push(JSON.parse(l)));
  const { start, calls } = flakyStart(12);
  const waits: number[] = [];
  const s = await supervise("rdp", start, { log, sleep: (ms) => Promise.resolve(void waits.push(ms)) });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls.started, 13);
  assert.equal(s.state(), "up");
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 16_000, ...Array(6).fill(30_000)]);
  assert.equal(lines.filter((l) => l.msg === "service failed to start").at(-1)?.retry_in_ms, 30_000);
  assert.equal(lines.filter((l) => l.msg === "service started").length, 1);
  await s.stop();
});
