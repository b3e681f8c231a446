// e2e: SIGTERM while `jumphost serve` is still starting its services. The service being started finishes
// starting, no further one starts, and every started one is stopped: serve exits 0 on its own.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";

Deno.test("SIGTERM during start-up stops every service that started and starts no more", async () => {
  const env = await startServeEnv({ withSsh: false });
  try {
    await env.serve.waitFor(/"msg":"started","service":"ssh"/, 60_000);
    const t0 = Date.now();
    const code = await env.stop();
    assert.equal(code, 0, env.serve.output().slice(-3000));
    assert.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`);
    const lines = env.logLines();
    const started = lines.filter((l) => l.msg === "started").map((l) => l.service);
    const stopped = lines.filter((l) => l.msg === "stopped").map((l) => l.service);
    assert.ok(started.includes("ssh"));
    assert.deepEqual([...stopped].sort(), [...started].sort(), "every started service was stopped");
    assert.ok(!lines.some((l) => l.msg === "ready"), "start-up was cut short");
    assert.deepEqual(lines.filter((l) => l.level === "error").map((l) => l.msg), []);
    const [start] = await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'system.start'`;
    assert.equal(start, undefined, "no system.start row for a start-up that never finished");
    const [stop] = await env.db.sql<{ details: { signal: string } }[]>`
      SELECT details FROM audit_log WHERE action = 'system.stop'`;
    assert.equal(stop.details.signal, "SIGTERM");
  } finally {
    await env.close();
  }
});
