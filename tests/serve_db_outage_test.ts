// Database outages under a running serve: audit events of the outage are spooled (fsync'd, under the data
// dir) and written once the database is back with their own event time, even when serve is killed during
// the outage; the embedded PostgreSQL killed with SIGKILL is restarted by serve; /healthz and the console
// say so meanwhile.
import assert from "node:assert/strict";
import { connect } from "../db/client.ts";
import { TEST_PG_DIR } from "./helpers/test_db.ts";
import { type ServeEnv, startServeEnv } from "./helpers/serve_env.ts";
import { ssh } from "./helpers/ssh_clients.ts";

const OUTAGE_SOURCES = [41, 42, 43, 44, 45].map((n) => `127.0.0.${n}`);

/**
 * one refused login per unknown source during the outage (each source its own row: nothing to fold); the
 * proxy refuses them from its cached policy snapshot, and writes the audit row to the spool
 */
async function refusedLogins(env: ServeEnv): Promise<{ from: Date; to: Date }> {
  const from = new Date();
  for (const bind of OUTAGE_SOURCES) {
    const r = await ssh({ bind, key: env.client.key }, env.ports.ssh, "127.0.0.1", env.target, ["true"]);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /access denied|temporarily unavailable/);
  }
  return { from, to: new Date() };
}

async function outageRows(env: ServeEnv) {
  return await env.db.sql<{ source_ip: string; at: Date; event_id: string | null }[]>`
    SELECT host(source_ip) AS source_ip, at, event_id FROM audit_log
    WHERE action = 'ssh.access_denied' AND host(source_ip) = ANY(${OUTAGE_SOURCES}) ORDER BY id`;
}

async function waitFor<T>(
  what: string,
  ms: number,
  f: () => Promise<T | null | undefined | false>,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

Deno.test("serve killed during a database outage: the spooled audit events are written at the next start, once, with their time", async () => {
  const env = await startServeEnv();
  const admin = connect({ socketDir: TEST_PG_DIR, database: "postgres" }, { max: 1 });
  let outage = false;
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    assert.equal((await env.sshRun(["echo ok"])).stdout, "ok\n");
    await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS false`);
    outage = true;
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${env.db.name}`;
    const window = await refusedLogins(env);
    // each is in the spool (fsync'd) before serve dies
    const spool = `${env.dataDir}/spool/audit-ssh.jsonl`;
    await waitFor("spooled events", 10_000, async () => {
      const lines = (await Deno.readTextFile(spool)).split("\n").filter((l) =>
        l.includes("ssh.access_denied")
      );
      return lines.length >= OUTAGE_SOURCES.length;
    });
    assert.equal(Deno.statSync(spool).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(`${env.dataDir}/spool`).mode! & 0o777, 0o700);
    Deno.kill(env.serve.child.pid, "SIGKILL");
    await env.serve.child.status;
    await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
    outage = false;
    await env.respawn();
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const rows = await waitFor("replayed rows", 20_000, async () => {
      const r = await outageRows(env);
      return r.length >= OUTAGE_SOURCES.length ? r : null;
    });
    assert.deepEqual(rows.map((r) => r.source_ip), OUTAGE_SOURCES, "all of them, in order, once");
    for (const r of rows) {
      assert.ok(r.event_id, "an event id");
      assert.ok(
        r.at.getTime() >= window.from.getTime() - 5 && r.at.getTime() <= window.to.getTime() + 5,
        `event time ${r.at.toISOString()} within the outage ${window.from.toISOString()}…${window.to.toISOString()}`,
      );
    }
    await waitFor("an empty spool", 10_000, () => Promise.resolve(Deno.statSync(spool).size === 0));
    assert.equal((await env.sshRun(["echo back"])).stdout, "back\n");
    assert.equal(await env.stop(), 0);
    assert.equal((await outageRows(env)).length, OUTAGE_SOURCES.length, "no row written twice");
  } finally {
    if (outage) await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
    await admin.end();
    await env.close();
  }
});

Deno.test("the embedded PostgreSQL killed with SIGKILL under serve is restarted; healthz, banner and audit show the outage", async () => {
  const env = await startServeEnv({ embedded: true });
  try {
    await env.serve.waitFor(/"msg":"ready"/, 90_000);
    assert.equal((await env.sshRun(["echo ok"])).stdout, "ok\n");
    const pid = Number(Deno.readTextFileSync(`${env.dataDir}/pg/postmaster.pid`).split("\n")[0]);
    const killedAt = Date.now();
    Deno.kill(pid, "SIGKILL");
    // while it is down: /healthz says so, and the console shows the banner (the error page included)
    const health = await waitFor("healthz 503", 10_000, async () => {
      const res = await fetch(`http://127.0.0.1:${env.ports.web}/healthz`);
      const body = await res.json();
      return res.status === 503 ? body : null;
    });
    assert.equal(health.status, "degraded");
    const banner = await waitFor("the outage banner", 10_000, async () => {
      const res = await fetch(`http://127.0.0.1:${env.ports.web}/login`);
      const html = await res.text();
      return html.includes('id="db-outage"') ? html : null;
    });
    assert.match(banner, /The database is unreachable/);
    // back by itself
    const up = await waitFor("healthz ok", 60_000, async () => {
      const res = await fetch(`http://127.0.0.1:${env.ports.web}/healthz`);
      const body = await res.json();
      return res.status === 200 && body.database_down_since === null ? body : null;
    });
    const restartMs = Date.now() - killedAt;
    assert.ok(up.database_restarts >= 1, JSON.stringify(up));
    let back = await env.sshRun(["echo back"]);
    for (let i = 0; i < 20 && back.stdout !== "back\n"; i++) {
      await new Promise((r) => setTimeout(r, 500));
      back = await env.sshRun(["echo back"]);
    }
    assert.equal(back.stdout, "back\n", back.stderr);
    const [row] = await waitFor("the outage audit row", 10_000, async () => {
      const r = await env.db.sql<{ details: { down_ms: number; restarted: boolean } }[]>`
        SELECT details FROM audit_log WHERE action = 'system.database_outage'`;
      return r.length ? r : null;
    });
    assert.equal(row.details.restarted, true);
    assert.ok(
      row.details.down_ms > 0 && row.details.down_ms <= restartMs + 1000,
      JSON.stringify(row.details),
    );
    const log = env.logLines();
    assert.ok(log.some((l) => l.msg === "database unreachable"));
    assert.ok(log.some((l) => l.msg === "embedded PostgreSQL (re)started"));
    console.log(`embedded PostgreSQL back after ${restartMs} ms (down_ms ${row.details.down_ms})`);
  } finally {
    await env.close();
  }
});
