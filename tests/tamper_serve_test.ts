// e2e with the real `jumphost serve`: the SSH worker seals a recording with the appliance key it creates
// under the data dir, serve signs audit checkpoints at the configured interval and once more at SIGTERM
// (covering its system.stop row); the published public key checks the checkpoint with openssl, and the
// CLI verifies the chain and the recording.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServeEnv } from "./helpers/serve_env.ts";
import { sshWith } from "./helpers/ssh_clients.ts";
import { cliFor } from "./helpers/cli.ts";
import { runTool } from "./helpers/tools.ts";

Deno.test("serve: sealed SSH recording, interval checkpoints and a final checkpoint at SIGTERM", async () => {
  const env = await startServeEnv({ env: { JUMPHOST_AUDIT_CHECKPOINT_INTERVAL: "1" } });
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const r = await sshWith(env.client, env.ports.ssh, "127.0.0.1", env.target, ["-tt"], [
      "echo sealed-by-serve",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const sql = env.db.sql;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [x] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM audit_checkpoints c
        WHERE c.last_id >= (SELECT max(id) FROM audit_log WHERE action = 'recording.sealed')`;
      if (x.n > 0) break;
      if (Date.now() > deadline) throw new Error("no interval checkpoint after the recording was sealed");
      await new Promise((res) => setTimeout(res, 200));
    }
    // a recording that closed without passing the proxies' seal step (a new kind, a lost seal) is sealed by
    // serve's sweep; sealing was installed an hour ago, the recording ended two minutes ago
    await sql`UPDATE schema_migrations SET applied_at = now() - interval '1 hour' WHERE version = 13`;
    const extra = join(env.dataDir, "recordings", "extra.stream");
    await Deno.writeTextFile(extra, "stdin+stdout of an exec channel\n", { mode: 0o600 });
    await sql`INSERT INTO recordings (session_id, kind, channel, path, size, started_at, ended_at)
      SELECT id, 'asciicast', 'exec-1', ${extra}, 32, now() - interval '3 minutes', now() - interval '2 minutes'
      FROM sessions LIMIT 1`;
    const swept = Date.now() + 20_000;
    for (;;) {
      const [x] = await sql<{ manifest: string }[]>`
        SELECT m.manifest FROM recording_seals m JOIN recordings r ON r.id = m.recording_id WHERE r.path = ${extra}`;
      if (x) {
        assert.equal(JSON.parse(x.manifest).file, "extra.stream");
        break;
      }
      if (Date.now() > swept) throw new Error("the sweep did not seal the recording");
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(await env.stop(), 0);

    const [head] = await sql<{ last_id: string }[]>`SELECT last_id::text AS last_id FROM audit_chain_head`;
    const [stop] = await sql<{ id: string }[]>`
      SELECT max(id)::text AS id FROM audit_log WHERE action = 'system.stop'`;
    const [cp] = await sql<{ last_id: string; statement: string; signature: Uint8Array }[]>`
      SELECT last_id::text AS last_id, statement, signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1`;
    assert.equal(cp.last_id, head.last_id, "the final checkpoint signs the head");
    assert.equal(cp.last_id, stop.id, "… which is the system.stop row");
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "cp.txt"), cp.statement);
      await Deno.writeFile(join(dir, "cp.sig"), cp.signature);
      const pem = join(env.dataDir, "secret", "signing_ed25519.pub.pem");
      const v = await runTool("openssl", [
        ...["pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin"],
        ...["-in", join(dir, "cp.txt"), "-sigfile", join(dir, "cp.sig")],
      ]);
      assert.equal(v.code, 0, v.out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal((await Deno.stat(join(env.dataDir, "secret", "signing_ed25519.pem"))).mode! & 0o777, 0o600);

    const cli = cliFor(env.db.url, { JUMPHOST_DATA_DIR: env.dataDir });
    const a = await cli.run(["audit", "verify"]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const rv = await cli.run(["recordings", "verify"]);
    assert.equal(rv.code, 0, rv.stderr + rv.stdout);
    assert.match(rv.stdout, /2 recording\(s\): 2 verified/);
  } finally {
    await env.close();
  }
});
