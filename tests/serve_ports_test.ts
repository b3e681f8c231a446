// e2e: the SSH port is taken when `jumphost serve` starts: one clear line names the service and the
// address, and the console, the RDP proxy and the rest start and keep running.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { freePort } from "./helpers/sshd.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { parseConnectionConfirm, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";

Deno.test("serve reports an SSH port that cannot be bound and runs the console and RDP anyway", async () => {
  const port = freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  const env = await startServeEnv({ withSsh: false, ports: { ssh: port } });
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const lines = env.logLines();
    const failed = lines.filter((l) => l.msg === "service failed to start");
    assert.equal(failed.length, 1, JSON.stringify(failed));
    assert.equal(failed[0].service, "ssh");
    assert.equal(failed[0].level, "error");
    assert.match(String(failed[0].error), new RegExp(`address already in use 127\\.0\\.0\\.1:${port}`));
    const services = lines.find((l) => l.msg === "ready")?.services as string[];
    assert.ok(!services.includes("ssh"), services.join());
    for (const s of ["rdp", "conversions", "web"]) assert.ok(services.includes(s), `${s} runs`);

    // the console answers, and the RDP worker decides (no server routes 127.0.0.1: negotiated, then denied)
    assert.equal((await env.healthz()).status, "ok");
    const c = await rawConnect("127.0.0.1", env.ports.rdp);
    c.write(connectionRequest(PROTOCOL_SSL));
    const cc = parseConnectionConfirm(await readTpkt(c, 10_000));
    assert.equal(cc.negotiation?.type, "response");
    c.destroy();
    // the process start is audited with the services that run
    const [start] = await env.db.sql<{ details: { services: string[] } }[]>`
      SELECT details FROM audit_log WHERE action = 'system.start'`;
    assert.ok(!start.details.services.includes("ssh") && start.details.services.includes("rdp"));
    // the failed service does not spoil the clean stop of the others
    assert.equal(await env.stop(), 0, env.serve.output().slice(-3000));
  } finally {
    blocker.close();
    await env.close();
  }
});
