// e2e: the SSH port is held by another program when `jumphost serve` starts. One error line per start
// attempt names the service and the address; the console, the RDP proxy and the rest run meanwhile; the
// SSH listener is retried with backoff and comes up by itself once the port is freed (real ssh through
// the proxy to a real sshd); SIGTERM during a retry wait stops at once.
import assert from "node:assert/strict";
import { type ServeEnv, startServeEnv } from "./helpers/serve_env.ts";
import { freePort } from "./helpers/sshd.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { parseConnectionConfirm, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";

type Line = Record<string, unknown>;
const at = (l: Line) => Date.parse(String(l.time));
const failedStarts = (env: ServeEnv) => env.logLines().filter((l) => l.msg === "service failed to start");

async function waitForLine(
  env: ServeEnv,
  what: string,
  pred: (l: Line) => boolean,
  ms = 60_000,
): Promise<Line> {
  for (const until = Date.now() + ms;;) {
    const hit = env.logLines().find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no log line: ${what}\n${env.serve.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serviceUp(env: ServeEnv): Promise<Record<string, string | undefined>> {
  const text = await (await fetch(`http://127.0.0.1:${env.ports.web}/metrics`)).text();
  const up = (s: string) =>
    new RegExp(`^jumphost_service_up\\{service="${s}"\\} (\\d)$`, "m").exec(text)?.[1];
  return { ssh: up("ssh"), rdp: up("rdp"), web: up("web") };
}

Deno.test("serve retries an SSH port held by another program and serves SSH once it is freed; the rest runs meanwhile", async () => {
  const port = freePort();
  let blocker: Deno.Listener | null = Deno.listen({ hostname: "127.0.0.1", port });
  const env = await startServeEnv({ ports: { ssh: port } });
  let code: number | null = null;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const first = failedStarts(env)[0];
    assert.deepEqual(
      [first.level, first.component, first.service, first.attempt, first.retry_in_ms],
      ["error", "serve.ssh", "ssh", 1, 500],
    );
    assert.match(
      String(first.error),
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*address already in use`),
    );
    const ready = env.logLines().find((l) => l.msg === "ready")!;
    assert.deepEqual(ready.retrying, ["ssh"]);
    // in the order they came up, which varies
    const services = [
      "audit-checkpoints",
      "conversions",
      "directory",
      "nodes",
      "rdp",
      "requests",
      "syslog",
      "web",
      "webhooks",
    ];
    assert.deepEqual([...(ready.services as string[])].sort(), services);
    const [start] = await env.db.sql<{ details: { services: string[]; retrying: string[] } }[]>`
      SELECT details FROM audit_log WHERE action = 'system.start'`;
    assert.deepEqual([...start.details.services].sort(), services);
    assert.deepEqual(start.details.retrying, ["ssh"]);

    // the console answers, and the RDP worker decides (no server routes 127.0.0.1: negotiated, then denied)
    assert.equal((await env.healthz()).status, "ok");
    const c = await rawConnect("127.0.0.1", env.ports.rdp);
    c.write(connectionRequest(PROTOCOL_SSL));
    assert.equal(parseConnectionConfirm(await readTpkt(c, 10_000)).negotiation?.type, "response");
    c.destroy();
    assert.deepEqual(await serviceUp(env), { ssh: "0", rdp: "1", web: "1" });

    // it retries with growing waits, one error line per attempt (the worker does not add its own)
    await waitForLine(env, "attempt 2 failed", (l) => l.msg === "service failed to start" && l.attempt === 2);
    blocker.close();
    blocker = null;
    const freedAt = Date.now();
    const started = await waitForLine(env, "service started", (l) => l.msg === "service started");
    const failed = failedStarts(env);
    assert.deepEqual(failed.map((l) => l.retry_in_ms), failed.map((_, i) => 500 * 2 ** i));
    assert.deepEqual(failed.map((l) => l.attempt), failed.map((_, i) => i + 1));
    assert.ok(failed.every((l) => l.service === "ssh" && String(l.error).includes(`127.0.0.1:${port}`)));
    assert.equal(env.logLines().filter((l) => l.msg === "SSH worker failed").length, 0);
    // the next attempt after the port was freed worked (an attempt already under way may have failed)
    assert.ok(failed.filter((l) => at(l) >= freedAt).length <= 1, JSON.stringify(failed));
    assert.deepEqual([started.level, started.service], ["info", "ssh"]);
    assert.equal(started.attempt, failed.length + 1);
    const last = failed.at(-1)!;
    assert.ok(at(started) >= at(last) + Number(last.retry_in_ms), "not before its backoff");

    // SSH works through the proxy to the real sshd
    const r = await env.sshRun(["echo healed"]);
    assert.equal(r.stdout, "healed\n", r.stderr);
    const [row] = await env.db.sql<{ target: string; details: { attempt: number; last_error: string } }[]>`
      SELECT target, details FROM audit_log WHERE action = 'system.service_started'`;
    assert.equal(row.target, "ssh");
    assert.equal(row.details.attempt, started.attempt);
    assert.match(row.details.last_error, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
    assert.deepEqual(await serviceUp(env), { ssh: "1", rdp: "1", web: "1" });
    code = await env.stop();
  } finally {
    blocker?.close();
    await env.close();
  }
  assert.equal(code, 0, env.serve.output().slice(-3000));
});

Deno.test("serve stops at once on SIGTERM while the SSH listener waits to retry its start", async () => {
  const port = freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  const env = await startServeEnv({ withSsh: false, ports: { ssh: port } });
  let code: number | null = null;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    // attempt 3 failed: the next one is 2 s away
    await waitForLine(env, "attempt 3 failed", (l) => l.msg === "service failed to start" && l.attempt === 3);
    code = await env.stop();
    const lines = env.logLines();
    const stopping = lines.findIndex((l) => l.msg === "stopping");
    const stopped = lines.slice(stopping).filter((l) => l.msg === "stopped");
    // the waiting service is stopped first and without waiting out its backoff
    assert.equal(stopped[0]?.service, "ssh", JSON.stringify(stopped));
    assert.ok(at(stopped[0]) - at(lines[stopping]) < 1000, `${at(stopped[0]) - at(lines[stopping])} ms`);
    assert.deepEqual(stopped.map((l) => l.service).sort(), [
      "audit-checkpoints",
      "conversions",
      "directory",
      "nodes",
      "rdp",
      "requests",
      "ssh",
      "syslog",
      "web",
      "webhooks",
    ]);
    // the node is marked stopped last, after its sessions were closed
    assert.equal(stopped.at(-1)?.service, "nodes");
    const [node] = await env.db.sql<{ state: string }[]>`SELECT state FROM nodes`;
    assert.equal(node.state, "stopped");
    assert.equal(failedStarts(env).length, 3, "no attempt after SIGTERM");
    assert.ok(!lines.some((l) => l.msg === "SSH proxy ready"));
  } finally {
    blocker.close();
    await env.close();
  }
  assert.equal(code, 0, env.serve.output().slice(-3000));
});
