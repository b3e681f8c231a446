// e2e: bad input and faults. Garbage and silent clients affect only their own connection; an unreachable
// backend gets a clear message and an audit row but no sessions row; rows left active by a crash are
// closed at start; with the database down new connections are refused while a live session goes on and
// is closed in the database once it is back.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { freePort } from "./helpers/sshd.ts";
import { connect } from "../db/client.ts";
import { TEST_PG_DIR } from "./helpers/test_db.ts";

function rawConnection(port: number, send: Uint8Array | null): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.20" });
    let got = "";
    sock.on("data", (d) => got += d.toString("latin1"));
    sock.on("connect", () => {
      if (send) sock.write(send);
    });
    sock.on("close", () => resolve(got));
    sock.on("error", () => {});
    setTimeout(() => sock.destroy(), 1500);
  });
}

Deno.test("ssh faults: bad clients, unreachable backend, crash leftovers, database outage", async (t) => {
  const env = await startSshEnv({
    keepaliveMs: 400,
    beforeStart: async (db) => {
      // what a crashed run of this node leaves behind
      await db.sql`INSERT INTO users (name) VALUES ('ghost')`;
      await db.sql`INSERT INTO sessions (session_id, user_name, server_name, protocol, source_ip, node_id)
        VALUES ('crashed1', 'ghost', 'gone', 'ssh', '127.0.0.1', 'test-node'),
               ('othernode', 'ghost', 'gone', 'ssh', '127.0.0.1', 'another-node')`;
    },
  });
  const admin = connect({ socketDir: TEST_PG_DIR, database: "postgres" }, { max: 1 });
  try {
    const U = env.sshd.user;
    const key = await env.key("k");
    await env.addServer("web1");
    await env.addServer("dead", { sshd: { ...env.sshd, port: freePort() } });
    await env.addUser("alice", "127.0.0.10", { keys: [key.pub] });
    await env.grant("alice", "web1");
    await env.grant("alice", "dead");
    const pub = await env.applianceKey("web1");
    await env.applianceKey("dead");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: key.path };

    await t.step(
      "sessions this node left active are closed at start as error; other nodes' are not",
      async () => {
        const rows = await env.db.sql<
          { session_id: string; is_active: boolean; termination_reason: string | null }[]
        >`
        SELECT session_id, is_active, termination_reason FROM sessions ORDER BY session_id`;
        assert.deepEqual(rows.map((r) => [r.session_id, r.is_active, r.termination_reason]), [
          ["crashed1", false, "error"],
          ["othernode", true, null],
        ]);
      },
    );

    await t.step("garbage and silent clients do not disturb other connections", async () => {
      const junk = crypto.getRandomValues(new Uint8Array(4096));
      const attempts = [
        rawConnection(env.port, junk),
        rawConnection(env.port, new TextEncoder().encode("SSH-2.0-x\r\n" + "\0".repeat(3000))),
        rawConnection(env.port, null),
      ];
      const ok = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo fine"]);
      assert.equal(ok.stdout, "fine\n", ok.stderr);
      const answers = await Promise.all(attempts);
      for (const a of answers) assert.match(a, /^SSH-2\.0-jumphost/);
      const again = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo still fine"]);
      assert.equal(again.stdout, "still fine\n", again.stderr);
    });

    await t.step("an unreachable backend: message, audit row, no sessions row", async () => {
      const before = (await env.db.sql`SELECT count(*) AS n FROM sessions`)[0].n;
      const r = await ssh(me, env.port, "127.0.0.1", `${U}@dead`, ["true"]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /jumphost: cannot connect to dead/);
      assert.equal((await env.db.sql`SELECT count(*) AS n FROM sessions`)[0].n, before);
      const [a] = await env.db.sql<{ target: string; details: { code: string } }[]>`
        SELECT target, details FROM audit_log WHERE action = 'ssh.backend_failed' ORDER BY id DESC LIMIT 1`;
      assert.equal(a.target, "dead");
      assert.equal(a.details.code, "unreachable");
    });

    await t.step("a backend that stops answering ends the session as a timeout", async () => {
      const c = await clientArgs(me);
      const live = new Deno.Command("ssh", {
        args: [...c.args, "-p", String(env.port), `${U}@web1@127.0.0.1`, "echo up; sleep 60"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = live.stdout.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "up\n");
      // freeze every process serving connections (the listener's descendants: monitor, session, shell)
      const descendants = async (pid: number): Promise<number[]> => {
        const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`).catch(() => "");
        const direct = text.trim().split(/\s+/).filter((x) => x !== "").map(Number);
        return [...direct, ...(await Promise.all(direct.map(descendants))).flat()];
      };
      const kids = await descendants(env.sshd.pid);
      assert.ok(kids.length > 0);
      for (const pid of kids) Deno.kill(pid, "SIGSTOP");
      try {
        const t0 = Date.now();
        for (;;) {
          const { done } = await reader.read();
          if (done) break;
        }
        assert.ok(Date.now() - t0 < 10_000);
        await live.status;
      } finally {
        for (const pid of kids) Deno.kill(pid, "SIGCONT");
      }
      let row: { termination_reason: string | null; termination_detail: string } | undefined;
      for (let i = 0; i < 100 && !row?.termination_reason; i++) {
        [row] = await env.db.sql<{ termination_reason: string | null; termination_detail: string }[]>`
          SELECT termination_reason, termination_detail FROM sessions ORDER BY id DESC LIMIT 1`;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(row?.termination_reason, "timeout");
      assert.match(row!.termination_detail, /keepalive/i);
    });

    await t.step(
      "database down: new connections refused, a live session goes on and is closed later",
      async () => {
        const c = await clientArgs(me);
        const live = new Deno.Command("ssh", {
          args: [
            ...c.args,
            "-p",
            String(env.port),
            `${U}@web1@127.0.0.1`,
            "echo started; sleep 2; echo finished",
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const reader = live.stdout.getReader();
        assert.equal(new TextDecoder().decode((await reader.read()).value), "started\n");
        const [{ session_id: liveId }] = await env.db.sql<{ session_id: string }[]>`
        SELECT session_id FROM sessions WHERE is_active AND node_id = 'test-node'`;
        await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS false`);
        await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${env.db.name}`;
        let outage = true;
        try {
          const refused = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo should-not-run"]);
          assert.equal(refused.code, 255);
          assert.equal(refused.stdout, "");
          assert.match(refused.stderr, /temporarily unavailable/);
          // the live session is unaffected
          let rest = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            rest += new TextDecoder().decode(value);
          }
          assert.equal(rest, "finished\n");
          assert.equal((await live.status).code, 0);
          await new Promise((r) => setTimeout(r, 500));
          await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
          outage = false;
        } finally {
          if (outage) await admin.unsafe(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
          await live.stderr.cancel();
        }
        // the close was queued and is written once the database is back
        let row: { is_active: boolean; termination_reason: string | null } | undefined;
        for (let i = 0; i < 120; i++) {
          try {
            [row] = await env.db.sql<{ is_active: boolean; termination_reason: string | null }[]>`
            SELECT is_active, termination_reason FROM sessions WHERE session_id = ${liveId}`;
            if (row && !row.is_active) break;
          } catch (_e) {
            // our own pool reconnects too
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        assert.deepEqual(row, { is_active: false, termination_reason: "normal" });
        // and new connections work again
        let back = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo back"]);
        for (let i = 0; i < 10 && back.stdout !== "back\n"; i++) {
          await new Promise((r) => setTimeout(r, 500));
          back = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo back"]);
        }
        assert.equal(back.stdout, "back\n", back.stderr);
      },
    );
  } finally {
    await admin.end();
    await env.close();
  }
});
