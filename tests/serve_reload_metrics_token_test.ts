// SIGHUP takes a new metrics_token: afterwards the new bearer token opens /metrics to a non-loopback client
// and the old one is refused (the console used to be restarted with the configuration it was replacing).
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestDb } from "./helpers/test_db.ts";
import { MAIN } from "./helpers/cli.ts";
import { spawnCollected } from "./helpers/process.ts";
import { freePort } from "./helpers/sshd.ts";

// loopback clients read /metrics without a token, so the token is only tested from another local address
const outside = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.") && !i.address.startsWith("169.254.")
)?.address;

const OLD = "old-token-0123456789abcdef";
const NEW = "new-token-fedcba9876543210";

async function status(url: string, token: string | null): Promise<number> {
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name: "SIGHUP with a new metrics_token: the new token works, the old one is refused",
  ignore: outside === undefined,
  async fn() {
    const db = await createTestDb();
    const dir = await Deno.makeTempDir({ dir: "/tmp/jumphost-test", prefix: "serve-token-" });
    const configFile = join(dir, "jumphost.json");
    await Deno.writeTextFile(configFile, JSON.stringify({ metrics_token: OLD }));
    const [ssh, rdp, web] = [freePort(), freePort(), freePort()];
    const serve = spawnCollected(Deno.execPath(), [
      "run",
      "-A",
      MAIN,
      "serve",
      ...["--config", configFile, "--data-dir", join(dir, "data"), "--database-url", db.url],
      ...["--ssh-listen", `127.0.0.1:${ssh}`, "--rdp-listen", `127.0.0.1:${rdp}`],
      ...["--web-listen", `0.0.0.0:${web}`, "--log-level", "info"],
    ]);
    try {
      await serve.waitFor(/"msg":"ready"/, 60_000);
      const url = `http://${outside}:${web}/metrics`;
      assert.equal(await status(url, null), 403, "no token from a non-loopback address");
      assert.equal(await status(url, OLD), 200, "the configured token");
      assert.equal(await status(url, NEW), 403, "a token not yet configured");

      await Deno.writeTextFile(configFile, JSON.stringify({ metrics_token: NEW }));
      serve.child.kill("SIGHUP");
      await serve.waitFor(/"msg":"configuration reloaded"/, 30_000);
      assert.equal(await status(url, NEW), 200, "the new token after SIGHUP");
      assert.equal(await status(url, OLD), 403, "the old token after SIGHUP");
      assert.equal(await status(url, null), 403, "still no anonymous access");
      assert.equal(await status(`http://127.0.0.1:${web}/metrics`, null), 200, "loopback as before");
    } finally {
      const s = await serve.stop();
      assert.equal(s.code, 0, serve.output().slice(-3000));
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
