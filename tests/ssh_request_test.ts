// e2e (OpenSSH in tmux → proxy → real sshd, the real CLI, real PostgreSQL): a user without a grant is offered an
// access request at the SSH prompt; approved from the CLI, the SAME connection lands in the backend shell.
// Also: self-approval refused, denial, timeout, a malformed answer, a server that does not exist (the same
// offer), and a client that cannot answer (BatchMode) still reads the denial.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
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
