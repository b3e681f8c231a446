// e2e (OpenSSH in tmux → proxy → real sshd, the real CLI, real PostgreSQL): a user without a grant is offered an
// access request at the SSH prompt; approved from the CLI, the SAME connection lands in the backend shell.
// Also: self-approval refused, denial, timeout, a malformed answer, a server that does not exist (the same
// offer), and a client that cannot answer (BatchMode) still reads the denial.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv, TEST_SECRET_KEY } from "./helpers/ssh_env.ts";
import { enrolTotp } from "../db/totp.ts";
import { totpCode } from "../policy/totp.ts";
import { CLIENT_OPTS, ssh } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { cliFor } from "./helpers/cli.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { listAudit } from "../db/audit.ts";

const WAIT_MS = 25_000;

Deno.test("SSH access request: offered, approved from the CLI, the same session goes on; denied; timed out", async (t) => {
  const env = await startSshEnv({ requestWaitMs: WAIT_MS });
  const cli = cliFor(env.db.url);
  const terms: Tmux[] = [];
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.20", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.reloadPolicy();
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    for (const [name, role] of [["bob", "admin"], ["alice", "admin"]]) {
      await createConsoleUser(env.db.sql, { name, role: role as "admin", passwordHash: "x" }, {
        actor: "test",
      });
    }
    const U = env.sshd.user;
    const args = [
      ...CLIENT_OPTS,
      "-o",
      "BindAddress=127.0.0.20",
      "-o",
      "BatchMode=no",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      alice.path,
      "-tt",
      "-p",
      String(env.port),
    ];
    const open = async (target: string) => {
      const term = new Tmux("request");
      terms.push(term);
      await term.start(["ssh", ...args, `${target}@127.0.0.1`]);
      await term.waitFor(new RegExp(`No grant for ${target.replace(/[.]/g, "\\.")}\\.`));
      await term.waitFor(/Request access\? Minutes, reason \(empty = no\):/);
      return term;
    };
    const requestId = async (term: Tmux) => {
      const s = await term.waitFor(/request (\d+) sent; waiting for approval\.\.\./);
      return /request (\d+) sent/.exec(s)![1];
    };

    await t.step("approved from the CLI: the waiting connection lands in the backend shell", async () => {
      const term = await open(`${U}@web1`);
      await term.type("abc\n");
      await term.waitFor(/answer with minutes and a reason/);
      await term.type("soon, please\n");
      await term.waitFor(/is not a duration/);
      await term.type("20, fix the disk\n");
      const id = await requestId(term);
      // alice is also a console admin: the same person, so she cannot approve her own request
      const self = await cli.run(["requests", "approve", id, "--as", "alice"]);
      assert.equal(self.code, 1);
      assert.match(self.stderr, /nobody may decide their own request/);
      assert.match(
        await cli.ok(["requests", "list", "--pending"]),
        /alice +web1 +\S+ +20 +0\/1 +fix the disk/,
      );
      assert.match(await cli.ok(["requests", "approve", id, "--as", "bob"]), /approved → 20 min/);
      await term.waitFor(new RegExp(`request ${id} approved`), 15_000);
      await term.waitFor(/this session is recorded/, 15_000);
      await term.type("echo landed-$((40+2))\n");
      await term.waitFor(/landed-42/);
      await term.type("exit\n");
      await term.waitFor(/\[exit 0\]/);
      const granted = await listAudit(env.db.sql, { action: "ssh.access_granted" });
      assert.equal(granted.length, 1);
      const denied = await listAudit(env.db.sql, { action: "ssh.access_denied" });
      assert.equal(denied[0].details.reason, "no_policy");
      assert.equal(denied[0].details.request_offered, true);
    });

    await t.step(
      "a user with a second factor types the code before the offer, and not again after approval",
      async () => {
        const tom = await env.key("tom");
        await env.addUser("tom", "127.0.0.23", { keys: [tom.pub] });
        await env.reloadPolicy();
        const [{ id: tomId }] = await env.db.sql<{ id: number }[]>`SELECT id FROM users WHERE name = 'tom'`;
        const e = await enrolTotp(
          env.db.sql,
          TEST_SECRET_KEY,
          { kind: "user", id: tomId, name: "tom" },
          "test",
        );
        const term = new Tmux("request-mfa");
        terms.push(term);
        const tomArgs = args.map((a) =>
          a === "BindAddress=127.0.0.20" ? "BindAddress=127.0.0.23" : a === alice.path ? tom.path : a
        );
        await term.start(["ssh", ...tomArgs, `${U}@web1@127.0.0.1`]);
        await term.waitFor(/Verification code:/);
        const before = await term.screen();
        assert.doesNotMatch(before, /Request access/, "no offer before the code");
        await term.type(totpCode(e.secret, Date.now()) + "\n");
        await term.waitFor(/Request access\? Minutes, reason/);
        await term.type("10, urgent fix\n");
        const id = await requestId(term);
        await cli.ok(["requests", "approve", id, "--as", "bob"]);
        await term.waitFor(/this session is recorded/, 15_000);
        const screen = await term.screen();
        assert.equal(screen.match(/Verification code:/g)?.length, 1, "the code is asked once");
        await term.type("exit\n");
        await term.waitFor(/\[exit 0\]/);
      },
    );

    await t.step("denied from the CLI: the reason and a disconnect", async () => {
      const term = await open(`root@web1`);
      await term.type("1h, look at logs\n");
      const id = await requestId(term);
      await cli.ok(["requests", "deny", id, "--as", "bob", "--reason", "not during the freeze"]);
      await term.waitFor(new RegExp(`request ${id} was denied: not during the freeze`), 15_000);
      await term.waitFor(/\[exit 255\]/);
    });

    await t.step(
      "a server that does not exist gets the same offer; the request can never be approved",
      async () => {
        const term = await open(`root@nosuch`);
        await term.type("30 checking\n");
        const id = await requestId(term);
        const r = await cli.run(["requests", "approve", id, "--as", "bob"]);
        assert.match(r.stderr, /names no existing server/);
        await cli.ok(["requests", "deny", id, "--as", "bob", "--reason", "no such thing"]);
        await term.waitFor(/\[exit 255\]/, 15_000);
        const created = await listAudit(env.db.sql, { action: "request.created", limit: 1 });
        assert.equal(created[0].details.server_known, false);
      },
    );

    await t.step("an empty answer declines: the denial text, no request", async () => {
      const before = (await listAudit(env.db.sql, { action: "request.created" })).length;
      const term = await open(`root@web1`);
      await term.keys("Enter");
      await term.waitFor(/access denied \(reference [a-z0-9]+\)/);
      await term.waitFor(/\[exit 255\]/);
      assert.equal((await listAudit(env.db.sql, { action: "request.created" })).length, before);
    });

    await t.step("a client that cannot answer (BatchMode) reads the denial as before", async () => {
      const r = await ssh({ bind: "127.0.0.20", key: alice.path }, env.port, "127.0.0.1", "root@web1", [
        "true",
      ]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /access denied \(reference [a-z0-9]+\)/);
    });

    await t.step("exec form: prints the request id and exits; --wait waits for the decision", async () => {
      // ed has no grant at all (with one reachable server, `ssh jump …` would go to it)
      const ed = await env.key("ed");
      await env.addUser("ed", "127.0.0.21", { keys: [ed.pub] });
      await env.reloadPolicy();
      const me = { bind: "127.0.0.21", key: ed.path };
      // as himself, naming no server: the jump's own commands
      const r = await ssh(me, env.port, "127.0.0.1", "ed", [
        "request",
        "web1",
        "--login",
        "root",
        "--minutes",
        "30",
        "--reason",
        "nightly job",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      assert.match(id, /^\d+$/);
      assert.match(r.stderr, new RegExp(`request ${id} is pending approval`));
      const shown = await cli.ok(["requests", "show", id]);
      assert.match(shown, /reason: +nightly job/);
      assert.match(shown, /via ssh_exec/);
      // a server that does not exist: the same answer
      const ghost = await ssh(me, env.port, "127.0.0.1", "ed", [
        "request nosuch --login root --minutes 30 --reason nightly job",
      ]);
      assert.equal(ghost.code, 0, ghost.stderr);
      assert.match(ghost.stdout, /^\d+\n$/);
      assert.match(ghost.stderr, /is pending approval/);
      // malformed input is refused clearly
      const bad = await ssh(me, env.port, "127.0.0.1", "ed", [
        "request web1 --login root --minutes forever --reason x",
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /minutes: "forever" is not a duration/);
      // a shell or another command: how to name a server, and the denial audited as before
      const other = await ssh(me, env.port, "127.0.0.1", "ed", ["uname"]);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /say which server you want/);
      // the row is written behind the connection: wait for it
      let reason: unknown = null;
      for (let i = 0; i < 50 && reason !== "no_server"; i++) {
        await new Promise((res) => setTimeout(res, 100));
        reason = (await listAudit(env.db.sql, { action: "ssh.access_denied", user: "ed", limit: 1 }))[0]
          ?.details
          .reason;
      }
      assert.equal(reason, "no_server");
      // --wait: approved while it waits
      const waiting = ssh(me, env.port, "127.0.0.1", "ed", [
        "request web1 --login root --minutes 10 --reason deploy hotfix --wait",
      ]);
      let pending: { id: number }[] = [];
      for (let i = 0; i < 100 && !pending.some((p) => String(p.id) !== id); i++) {
        await new Promise((res) => setTimeout(res, 100));
        pending = await env.db.sql<{ id: number }[]>`SELECT id FROM access_requests
          WHERE state = 'pending' AND reason = 'deploy hotfix'`;
      }
      await cli.ok(["requests", "approve", String(pending[0].id), "--as", "bob"]);
      const w = await waiting;
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stderr, new RegExp(`request ${pending[0].id} approved`));
      const [{ n }] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM policies
        WHERE access_request_id = ${pending[0].id} AND logins = '{root}'`;
      assert.equal(n, 1);
      await cli.ok(["requests", "deny", id, "--as", "bob", "--reason", "tidy up"]);
    });

    await t.step("nobody decides in time: the request expires and the connection ends", async () => {
      const term = await open(`root@web1`);
      await term.type("15, timing out\n");
      const id = await requestId(term);
      await term.waitFor(
        new RegExp(`request ${id} was not decided within 1 min; it has expired`),
        WAIT_MS + 10_000,
      );
      await term.waitFor(/\[exit 255\]/);
      assert.match(await cli.ok(["requests", "show", id]), new RegExp(`request ${id}: expired`));
      const late = await cli.run(["requests", "approve", id, "--as", "bob"]);
      assert.match(late.stderr, /the request is expired/);
    });
  } finally {
    for (const term of terms) await term.kill();
    await env.close();
  }
});
