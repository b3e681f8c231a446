// A connection flood past the process's descriptor limit must not lock everyone out: OpenSSH → the SSH proxy
// (its own process under `prlimit --nofile`, real PostgreSQL) → real sshd. Without the listener's cap
// (core/fd_budget.ts) Deno's node:net server stopped accepting for good after EMFILE.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { grantWeb1 } from "./helpers/granted_ssh.ts";
import { createTestDb } from "./helpers/test_db.ts";
import { freePort, startSshd, waitForPort } from "./helpers/sshd.ts";
import { ssh } from "./helpers/ssh_clients.ts";

const LIMIT = 300;
const FLOOD = 1500;

Deno.test("a flood past the descriptor limit is refused, and the listener goes on accepting logins", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jh-fd-" });
  const db = await createTestDb();
  const data = join(dir, "data");
  const sshd = await startSshd();
  const port = freePort();
  let proxy: Deno.ChildProcess | null = null;
  try {
    const client = await grantWeb1(db.sql, { sshd, sourceIp: "127.0.0.0/8", keyDir: dir, dataDir: data });
    proxy = new Deno.Command("prlimit", {
      args: [
        `--nofile=${LIMIT}:${LIMIT}`,
        Deno.execPath(),
        "run",
        "-A",
        new URL("../bench/ssh/proxy_process.ts", import.meta.url).pathname,
      ],
      env: {
        BENCH_DB_URL: db.url,
        BENCH_LISTEN: `127.0.0.1:${port}`,
        BENCH_DATA: data,
        BENCH_RECORDINGS: join(dir, "recordings"),
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort("127.0.0.1", port, 30_000);
    const login = () =>
      ssh({ bind: "127.0.0.1", key: client.path }, port, "127.0.0.1", `${sshd.user}@web1`, ["echo", "in"]);
    assert.equal((await login()).stdout.trim(), "in");

    // more connections than the proxy may hold descriptors, from many sources, all held open at once
    const flood: net.Socket[] = [];
    let connected = 0;
    for (let i = 0; i < FLOOD; i++) {
      const s = net.connect({
        host: "127.0.0.1",
        port,
        localAddress: `127.0.${20 + (i >> 8)}.${1 + (i & 0xfe)}`,
      });
      s.on("connect", () => connected++);
      s.on("error", () => {});
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(connected > LIMIT, `the flood connected (${connected})`);
    for (const s of flood) s.destroy();
    await new Promise((r) => setTimeout(r, 2000));

    // the flood is gone: logins work again
    const after = await login();
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.trim(), "in");
  } finally {
    if (proxy) {
      proxy.kill("SIGTERM");
      await proxy.status;
    }
    await sshd.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
