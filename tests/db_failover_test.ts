// Database failover, all real: a PostgreSQL 15 primary with a synchronous streaming-replication standby
// (tests/helpers/pg_pair.ts), `jumphost serve` on the URL naming both hosts with
// target_session_attrs=read-write, OpenSSH → serve's proxy → sshd. The primary is stopped hard
// (pg_ctl stop -m immediate) and the standby promoted (pg_ctl promote): a session open across the
// failover goes on, new decisions resume within seconds, and every row committed before is still there
// (the audit chain verifies).
import assert from "node:assert/strict";
import { startPgPair } from "./helpers/pg_pair.ts";
import { startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { jh } from "./helpers/cli.ts";
import { connect } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";

Deno.test("database failover: primary stopped, standby promoted; the open session goes on, decisions resume, nothing committed is lost", async () => {
  const pair = await startPgPair();
  const sql = connect({ url: pair.url }, { max: 4 });
  let env: Awaited<ReturnType<typeof startServeEnv>> | null = null;
  try {
    await migrate(sql);
    const [{ port }] = await sql<{ port: number }[]>`SELECT inet_server_port() AS port`;
    assert.equal(port, pair.primary.port, "read-write picks the primary");
    // the standby named first: still the primary (postgres.js's own read-write check would settle on it)
    const reversed = connect({
      url:
        `postgres://jumphost@${pair.standby.host}:${pair.standby.port},${pair.primary.host}:${pair.primary.port}` +
        "/jumphost?target_session_attrs=read-write",
    }, { max: 1 });
    try {
      const [r] = await reversed<{ port: number }[]>`SELECT inet_server_port() AS port`;
      assert.equal(r.port, pair.primary.port, "read-write skips the standby listed first");
    } finally {
      await reversed.end({ timeout: 1 });
    }
    env = await startServeEnv({
      db: { sql, name: "jumphost", url: pair.url, close: () => Promise.resolve() },
    });
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    assert.equal((await env.sshRun(["echo", "before"])).stdout, "before\n");

    // a session that spans the failover
    const c = await clientArgs(env.client);
    const spanning = new Deno.Command("ssh", {
      args: [
        ...c.args,
        "-p",
        String(env.ports.ssh),
        "-l",
        env.target,
        "127.0.0.1",
        "sleep 12; echo still-here",
      ],
      env: c.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    await new Promise((r) => setTimeout(r, 2000));

    const [committed] = await sql<{ sessions: number; audit_max: number; audit_rows: number }[]>`
      SELECT (SELECT count(*) FROM sessions)::int AS sessions, (SELECT max(id) FROM audit_log) AS audit_max,
             (SELECT count(*) FROM audit_log)::int AS audit_rows`;
    assert.ok(committed.sessions >= 2, JSON.stringify(committed));

    await pair.stopPrimary();
    await new Promise((r) => setTimeout(r, 1500));
    await pair.promoteStandby();
    const promotedAt = Date.now();

    // new decisions resume: a new login through the proxy succeeds on the promoted standby
    let resumedMs = -1;
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const r = await env.sshRun(["echo", "after"]);
      if (r.code === 0 && r.stdout === "after\n") {
        resumedMs = Date.now() - promotedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(resumedMs >= 0, `no login succeeded after the promotion:\n${env.serve.output().slice(-3000)}`);
    assert.ok(resumedMs < 30_000, `decisions resumed ${resumedMs} ms after the promotion`);
    console.log(`decisions resumed ${resumedMs} ms after the promotion`);

    const span = await spanning;
    assert.equal(
      new TextDecoder().decode(span.stdout),
      "still-here\n",
      new TextDecoder().decode(span.stderr),
    );
    assert.equal(span.code, 0);

    // the promoted standby serves; everything committed before the stop is there
    const [now] = await sql<{ port: number; recovery: boolean }[]>`
      SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovery`;
    assert.deepEqual([now.port, now.recovery], [pair.standby.port, false]);
    const [kept] = await sql<{ sessions: number; audit_rows: number }[]>`
      SELECT (SELECT count(*) FROM sessions WHERE id <= (SELECT max(id) FROM sessions))::int AS sessions,
             (SELECT count(*) FROM audit_log WHERE id <= ${committed.audit_max})::int AS audit_rows`;
    assert.ok(kept.sessions >= committed.sessions + 1, `sessions ${JSON.stringify(kept)}`);
    assert.equal(kept.audit_rows, committed.audit_rows);
    const ended = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions
      WHERE termination_reason = 'normal'`;
    assert.ok(ended[0].n >= 2, "the sessions before and after the failover closed normally");
    // the checkpoints were signed by serve's key, in its data directory
    const verify = await jh(["audit", "verify", "--data-dir", env.dataDir], {
      env: { JUMPHOST_DATABASE_URL: pair.url },
    });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await env?.close();
    await sql.end({ timeout: 1 }).catch(() => {});
    await pair.close();
  }
});
