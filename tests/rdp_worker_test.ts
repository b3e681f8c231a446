// startRdpService: the RDP proxy in its worker isolate, as `serve` runs it.
import assert from "node:assert/strict";
import net from "node:net";
import { resolveConfig } from "../core/config.ts";
import { createLogger } from "../core/log.ts";
import { parseConnectionConfirm, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";
import { startRdpService } from "../app/rdp_service.ts";
import { freePort } from "./helpers/rdp_backend.ts";
import { eventually } from "./helpers/rdp_env.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { createTestDb, TEST_PG_DIR } from "./helpers/test_db.ts";

function configFor(dir: string, port: number) {
  return resolveConfig({
    profile: "checkout",
    cwd: dir,
    hostname: "test",
    flags: {
      "data-dir": dir,
      "rdp-listen": `127.0.0.1:${port}`,
      "node-id": "rdp-worker-test",
      "log-level": "error",
    },
    env: {},
    file: {},
    configFile: null,
  });
}

Deno.test("startRdpService runs the proxy in a worker that decides, audits and stops", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-rdpw-" });
  try {
    const port = await freePort();
    const service = await startRdpService({
      config: configFor(dir, port),
      dbTarget: { socketDir: TEST_PG_DIR, database: db.name },
      log: createLogger("error", "test"),
    });
    try {
      assert.equal(service.name, "rdp");
      const st = await Deno.stat(`${dir}/rdp/tls_key.pem`);
      assert.equal(st.mode! & 0o777, 0o600, "generated key is private");
      const c = await rawConnect("127.0.0.1", port);
      c.write(connectionRequest(PROTOCOL_SSL));
      // no server is routed to 127.0.0.1: the denial is decided and audited before anything else
      const cc = parseConnectionConfirm(await readTpkt(c, 5000));
      assert.deepEqual(cc.negotiation, { type: "response", flags: 0, selectedProtocol: PROTOCOL_SSL });
      c.destroy(); // (the worker would now refuse politely inside TLS; see rdp_shadow_test.ts)
      const [row] = await eventually(
        () =>
          db.sql`SELECT details FROM audit_log WHERE action = 'rdp.access_denied'`.then((r) =>
            r.length > 0 && r
          ),
        5000,
        "the denial audit row",
      );
      assert.equal(row.details.reason, "unknown_server");
      assert.equal(row.details.cookie, "alice");
    } finally {
      await service.stop();
    }
    // the listener is gone with the worker
    await assert.rejects(rawConnect("127.0.0.1", port));
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startRdpService fails with a clear error when its port is taken", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-rdpw-" });
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, r));
  try {
    const port = (blocker.address() as net.AddressInfo).port;
    await assert.rejects(
      startRdpService({
        config: configFor(dir, port),
        dbTarget: { socketDir: TEST_PG_DIR, database: db.name },
        log: createLogger("error", "test"),
      }),
      (e: Error) => /cannot listen on 127\.0\.0\.1/.test(e.message),
    );
  } finally {
    await new Promise((r) => blocker.close(r));
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
