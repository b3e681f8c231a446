// e2e: a listener worker of the real `jumphost serve` crashes (an error nothing catches, thrown by the
// test-only crash hook, proxy/worker_crash_hook.ts) and is restarted with backoff, a log line and an
// audit row, while the console and the RDP worker keep running; SSH works again through the proxy.
import assert from "node:assert/strict";
import { type ServeEnv, startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { parseConnectionConfirm, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";
import { CRASH_HOOKS_ENV, CRASH_SIGNAL } from "../proxy/worker_crash_hook.ts";

type Line = Record<string, unknown>;
const count = (lines: Line[], msg: string) => lines.filter((l) => l.msg === msg).length;
const at = (l: Line) => Date.parse(String(l.time));

/** Waits until serve has logged `msg` at least n times. */
async function waitForCount(env: ServeEnv, msg: string, n: number): Promise<void> {
  for (const until = Date.now() + 60_000; count(env.logLines(), msg) < n;) {
    if (Date.now() > until) throw new Error(`not ${n} × ${msg}:\n${env.serve.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls /healthz until stopped; every answer must be "ok". */
function watchHealth(healthz: () => Promise<{ status: string }>) {
  let running = true;
  const results: string[] = [];
  const done = (async () => {
    while (running) {
      results.push(await healthz().then((h) => h.status, (e) => `failed: ${(e as Error).message}`));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return results;
    },
  };
}

Deno.test("serve restarts a crashed SSH worker with backoff, a log line and an audit row; the rest keeps running", async () => {
  const env = await startServeEnv({ env: { [CRASH_HOOKS_ENV]: "ssh" } });
  let code: number | null = null;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    assert.match(env.serve.output(), /SSH worker: test crash hook enabled/);
    assert.doesNotMatch(env.serve.output(), /RDP worker: test crash hook enabled/, "only the named worker");
    const before = await env.sshRun(["echo before-crash"]);
    assert.equal(before.stdout, "before-crash\n", before.stderr);

    // a session is live in the worker when it crashes
    const c = await clientArgs(env.client);
    const live = new Deno.Command("ssh", {
      args: [...c.args, "-p", String(env.ports.ssh), `${env.target}@127.0.0.1`, "echo up; sleep 60"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const reader = live.stdout.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "up\n");

    const health = watchHealth(env.healthz);
    // two crashes in a row: the second restart waits longer
    for (const n of [2, 3]) {
      Deno.kill(env.serve.child.pid, CRASH_SIGNAL);
      await waitForCount(env, "SSH proxy ready", n);
    }
    const results = await health.stop();

    const lines = env.logLines();
    const failed = lines.filter((l) => l.msg === "SSH worker failed");
    assert.equal(failed.length, 2);
    assert.equal(failed[0].component, "serve.ssh");
    assert.match(String(failed[0].error), /^Uncaught Error: SSH worker crashed on SIGUSR2/);
    const stacks = lines.filter((l) => l.msg === "uncaught error" && l.component === "serve.ssh");
    assert.match(String(stacks[0]?.stack), /worker_crash_hook\.ts/, "the stack is logged");
    const died = lines.filter((l) => l.msg === "service died; restarting");
    assert.deepEqual(died.map((l) => [l.service, l.attempt, l.delay_ms]), [["ssh", 1, 500], [
      "ssh",
      2,
      1000,
    ]]);
    const restarted = lines.filter((l) => l.msg === "service restarted");
    assert.deepEqual(restarted.map((l) => [l.component, l.service, l.attempt]), [
      ["serve.ssh", "ssh", 1],
      ["serve.ssh", "ssh", 2],
    ]);
    const ready = lines.filter((l) => l.msg === "SSH proxy ready");
    // each restart came only after its backoff
    assert.ok(at(ready[1]) - at(died[0]) >= 500, `restart 1 after ${at(ready[1]) - at(died[0])} ms`);
    assert.ok(at(ready[2]) - at(died[1]) >= 1000, `restart 2 after ${at(ready[2]) - at(died[1])} ms`);

    // the other services never stopped: the console answered throughout, the RDP worker never restarted
    assert.ok(results.length >= 8, `healthz polled ${results.length} times`);
    assert.deepEqual(results.filter((r) => r !== "ok"), []);
    assert.equal(count(lines, "RDP proxy ready"), 1);
    (await Deno.connect({ hostname: "127.0.0.1", port: env.ports.rdp })).close();

    const audit = await env.db.sql<{ target: string; details: { reason: string; attempt: number } }[]>`
      SELECT target, details FROM audit_log WHERE action = 'system.worker_restart' ORDER BY id`;
    assert.deepEqual(audit.map((a) => [a.target, a.details.attempt]), [["ssh", 1], ["ssh", 2]]);
    assert.match(audit[0].details.reason, /SSH worker crashed on SIGUSR2/);
    const metrics = await (await fetch(`http://127.0.0.1:${env.ports.web}/metrics`)).text();
    assert.match(metrics, /^jumphost_worker_restarts_total\{service="ssh"\} 2$/m);

    // the session in the crashed worker ended and its row is closed
    assert.ok((await reader.read()).done);
    assert.notEqual((await live.status).code, 0);
    const rows = await env.db.sql<{ is_active: boolean; termination_reason: string }[]>`
      SELECT is_active, termination_reason FROM sessions ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.is_active, r.termination_reason]), [[false, "normal"], [
      false,
      "error",
    ]]);

    // and SSH works again through the restarted worker
    const after = await env.sshRun(["echo after-restart"]);
    assert.equal(after.stdout, "after-restart\n", after.stderr);
  } finally {
    code = await env.close();
  }
  assert.equal(code, 0, env.serve.output().slice(-3000));
});

Deno.test("serve restarts the SSH and RDP workers when both crash at once; both serve again", async () => {
  const env = await startServeEnv({ env: { [CRASH_HOOKS_ENV]: "ssh,rdp" } });
  let code: number | null = null;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const health = watchHealth(env.healthz);
    Deno.kill(env.serve.child.pid, CRASH_SIGNAL);
    await waitForCount(env, "SSH proxy ready", 2);
    await waitForCount(env, "RDP proxy ready", 2);
    const results = await health.stop();
    assert.ok(results.length >= 4, `healthz polled ${results.length} times`);
    assert.deepEqual(results.filter((r) => r !== "ok"), []);
    const died = env.logLines().filter((l) => l.msg === "service died; restarting");
    assert.deepEqual(died.map((l) => l.service).sort(), ["rdp", "ssh"]);
    const audit = await env.db.sql<{ target: string }[]>`
      SELECT target FROM audit_log WHERE action = 'system.worker_restart' ORDER BY target`;
    assert.deepEqual(audit.map((a) => a.target), ["rdp", "ssh"]);

    // the new RDP worker decides and audits (no server routes 127.0.0.1: negotiated, then denied)
    const c = await rawConnect("127.0.0.1", env.ports.rdp);
    c.write(connectionRequest(PROTOCOL_SSL));
    assert.equal(parseConnectionConfirm(await readTpkt(c, 10_000)).negotiation?.type, "response");
    c.destroy();
    for (const until = Date.now() + 10_000;;) {
      const rows = await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'rdp.access_denied'`;
      if (rows.length > 0) break;
      assert.ok(Date.now() < until, "the restarted RDP worker audits its denial");
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = await env.sshRun(["echo after-both"]);
    assert.equal(after.stdout, "after-both\n", after.stderr);
  } finally {
    code = await env.close();
  }
  assert.equal(code, 0, env.serve.output().slice(-3000));
});
