// e2e: the SSH proxy as `serve` runs it — in a worker started by startSshService, configured by a Config
// and a DbTarget — and a graceful stop that ends live sessions with reason "shutdown".
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../core/config.ts";
import { startSshService } from "../app/ssh_service.ts";
import { createTestDb } from "./helpers/test_db.ts";
import { freePort, startSshd } from "./helpers/sshd.ts";
import { clientArgs, ssh } from "./helpers/ssh_clients.ts";
import { grantWeb1 } from "./helpers/granted_ssh.ts";

Deno.test("ssh worker: startSshService serves sessions and stops them cleanly", async () => {
  const db = await createTestDb();
  const sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "jh-sshworker-" });
  const logs: string[] = [];
  const log = {
    debug: () => {},
    info: (m: string) => logs.push(m),
    warn: (m: string) => logs.push(m),
    error: (m: string) => logs.push(m),
  };
  let service: ReturnType<typeof startSshService> | null = null;
  try {
    const port = freePort();
    const config = resolveConfig({
      profile: "checkout",
      cwd: dir,
      hostname: "test",
      flags: {
        "data-dir": join(dir, "data"),
        "database-url": db.url,
        "ssh-listen": [`127.0.0.1:${port}`],
        "node-id": "worker-node",
        "wtmp-file": join(dir, "wtmp"),
      },
      env: {},
      file: {},
      configFile: null,
    });
    const key = await grantWeb1(db.sql, {
      sshd,
      sourceIp: "127.0.0.30",
      keyDir: dir,
      dataDir: config.dataDir,
    });

    service = startSshService(config, { log, dbTarget: { url: db.url } });
    const addresses = await service.ready;
    assert.deepEqual(addresses, [{ host: "127.0.0.1", port }]);
    const hostKey = join(config.dataDir, "ssh", "ssh_host_ed25519_key");
    assert.equal((await Deno.stat(hostKey)).mode! & 0o777, 0o600);

    const me = { bind: "127.0.0.30", key: key.path };
    const r = await ssh(me, port, "127.0.0.1", `${sshd.user}@web1`, ["echo from-worker"]);
    assert.equal(r.stdout, "from-worker\n", r.stderr + logs.join("\n"));

    // a live session is ended by stop() and its row closed as "shutdown"
    const c = await clientArgs(me);
    const child = new Deno.Command("ssh", {
      args: [...c.args, "-p", String(port), `${sshd.user}@web1@127.0.0.1`, "echo up; sleep 60"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "up\n");
    await service.stop();
    const rest = await reader.read();
    assert.ok(rest.done, "nothing after the shutdown");
    assert.equal((await child.status).code, 255);
    const rows = await db.sql<{ termination_reason: string; node_id: string }[]>`
      SELECT termination_reason, node_id FROM sessions ORDER BY id`;
    assert.deepEqual(rows.map((x) => [x.termination_reason, x.node_id]), [
      ["normal", "worker-node"],
      ["shutdown", "worker-node"],
    ]);
    const wtmp = await Deno.stat(join(dir, "wtmp"));
    assert.equal(wtmp.size, 4 * 384);
  } finally {
    await service?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await sshd.stop();
    await db.close();
  }
});
