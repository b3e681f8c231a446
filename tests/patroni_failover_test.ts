// Database failover under Patroni (with etcd), all real: a two-member Patroni cluster in synchronous mode
// (tests/helpers/patroni.ts), `jumphost serve` on the URL naming both members with
// target_session_attrs=read-write, OpenSSH → serve's proxy → sshd. `patronictl switchover` moves the primary
// while a session is open: the session goes on, new logins are decided again, and every row committed
// before is on the new primary (the audit chain verifies).
import assert from "node:assert/strict";
import { startPatroni } from "./helpers/patroni.ts";
import { startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { jh } from "./helpers/cli.ts";
import { connect } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";

Deno.test("Patroni switchover under serve: the open session goes on, logins resume, nothing committed is lost", async () => {
  const cluster = await startPatroni();
  const sql = connect({ url: cluster.url }, { max: 4 });
  let env: Awaited<ReturnType<typeof startServeEnv>> | null = null;
  try {
    await migrate(sql);
    env = await startServeEnv({
      db: { sql, name: "jumphost", url: cluster.url, close: () => Promise.resolve() },
    });
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    assert.equal((await env.sshRun(["echo", "before"])).stdout, "before\n");

    const c = await clientArgs(env.client);
    const spanning = new Deno.Command("ssh", {
      args: [
        ...c.args,
        "-p",
        String(env.ports.ssh),
        "-l",
        env.target,
        "127.0.0.1",
        "sleep 10; echo still-here",
      ],
      env: c.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    await new Promise((r) => setTimeout(r, 2000));
    const [committed] = await sql<{ audit_rows: number; audit_max: number }[]>`
      SELECT count(*)::int AS audit_rows, max(id) AS audit_max FROM audit_log`;

    const first = await cluster.leader();
    const t0 = Date.now();
    const second = await cluster.switchover();
    assert.notEqual(second.name, first.name);
    let resumedMs = -1;
    for (const end = Date.now() + 60_000; Date.now() < end;) {
      const r = await env.sshRun(["echo", "after"]);
      if (r.code === 0 && r.stdout === "after\n") {
        resumedMs = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(resumedMs >= 0, `no login after the switchover:\n${env.serve.output().slice(-3000)}`);
    const span = await spanning;
    assert.equal(
      new TextDecoder().decode(span.stdout),
      "still-here\n",
      new TextDecoder().decode(span.stderr),
    );
    const [{ port }] = await sql<{ port: number }[]>`SELECT inet_server_port() AS port`;
    assert.equal(port, second.port, "the pool follows the new primary");
    const [after] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM audit_log WHERE id <= ${committed.audit_max}`;
    assert.equal(after.n, committed.audit_rows, "every audit row committed before the switchover is there");

    const verify = await jh(["audit", "verify"], {
      env: { JUMPHOST_DATABASE_URL: cluster.url, JUMPHOST_DATA_DIR: env.dataDir },
    });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    console.log(
      `logins resumed ${resumedMs} ms after the switchover began`,
    );
  } finally {
    await env?.close();
    await sql.end({ timeout: 1 }).catch(() => {});
    await cluster.close();
  }
});
