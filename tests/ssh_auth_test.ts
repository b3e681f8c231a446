// e2e: who gets in and how the proxy logs in to the backend — registered keys, jump passwords with
// passthrough (password and keyboard-interactive), IP-only users, agent forwarding — and every denial.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, runCmd, ssh, sshWith } from "./helpers/ssh_clients.ts";
import { TEST_OS_PASSWORD } from "./helpers/sshd.ts";

interface Audit {
  action: string;
  actor: string;
  target: string | null;
  success: boolean;
  details: Record<string, unknown>;
}

Deno.test("ssh auth: jump credentials, backend credentials and denials", async (t) => {
  const env = await startSshEnv();
  const agentDir = await Deno.makeTempDir({ prefix: "jh-agent-" });
  let agent: Deno.ChildProcess | null = null;
  try {
    const U = env.sshd.user;
    const authorized = join(env.sshd.dir, "authorized", U);
    const alice = await env.key("alice");
    const other = await env.key("other");
    await env.addServer("web1");
    await env.addServer("web2");
    await env.addServer("web3", { hostKey: (await env.key("not-the-host")).pub });
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addUser("bob", "127.0.0.11", { password: TEST_OS_PASSWORD });
    await env.addUser("carol", "127.0.0.12");
    await env.addUser("dave", "127.0.0.13", { keys: [alice.pub] });
    await env.addUser("erin", "127.0.0.14", { keys: [alice.pub] });
    await env.addUser("frank", "127.0.0.15", { keys: [alice.pub] });
    await env.grant("alice", "web1");
    await env.grant("alice", "web3");
    await env.grant("bob", "web1");
    await env.grant("carol", "web1");
    await env.grant("dave", "web1", { logins: ["root"] });
    await env.grant("erin", "web1", {
      from: new Date(Date.now() - 7200_000),
      until: new Date(Date.now() - 3600_000),
    });
    await env.grant("frank", "web1");
    await env.grant("frank", "web2");
    const rowCount = async () => Number((await env.db.sql`SELECT count(*) AS n FROM sessions`)[0].n);
    const audits = async (action: string) =>
      await env.db.sql<Audit[]>`SELECT action, actor, target, success, details FROM audit_log
        WHERE action = ${action} ORDER BY id`;
    const lastSession = async () =>
      (await env.db.sql<{ metadata: Record<string, unknown>; ssh_agent_used: boolean; is_active: boolean }[]>`
        SELECT metadata, ssh_agent_used, is_active FROM sessions ORDER BY id DESC LIMIT 1`)[0];
    const waitInactive = async () => {
      for (let i = 0; i < 100 && (await lastSession())?.is_active; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    await t.step("a jump password is verified and passed through to the backend", async () => {
      const id: ClientId = {
        bind: "127.0.0.11",
        password: TEST_OS_PASSWORD,
        opts: ["PreferredAuthentications=password"],
      };
      const r = await ssh(id, env.port, "127.0.0.1", `${U}@web1`, ["whoami"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${U}\n`);
      await waitInactive();
      const s = await lastSession();
      assert.equal(s.metadata.jump_auth, "password");
      assert.equal(s.metadata.backend_auth, "password");
    });

    await t.step("keyboard-interactive at the jump, password to the backend", async () => {
      const id: ClientId = {
        bind: "127.0.0.11",
        password: TEST_OS_PASSWORD,
        opts: ["PreferredAuthentications=keyboard-interactive"],
      };
      const r = await ssh(id, env.port, "127.0.0.1", `${U}@web1`, ["echo kbd"]);
      assert.equal(r.stdout, "kbd\n", r.stderr);
      await waitInactive();
      assert.equal((await lastSession()).metadata.jump_auth, "keyboard-interactive");
    });

    await t.step("a wrong jump password is refused and audited as an authentication failure", async () => {
      const before = await rowCount();
      const r = await ssh({ bind: "127.0.0.11", password: "wrong" }, env.port, "127.0.0.1", `${U}@web1`, [
        "true",
      ]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied/);
      assert.equal(await rowCount(), before);
      await new Promise((r) => setTimeout(r, 200));
      const fails = await audits("ssh.auth_failed");
      assert.equal(fails.at(-1)?.actor, "ip:127.0.0.11");
      const outcomes = (fails.at(-1)?.details.attempts as { outcome: string }[]).map((a) => a.outcome);
      assert.ok(outcomes.length > 0 && outcomes.every((o) => o === "bad_password"), outcomes.join());
    });

    await t.step("a user known by IP only logs in with a password the backend accepts", async () => {
      const ok = await ssh(
        { bind: "127.0.0.12", password: TEST_OS_PASSWORD },
        env.port,
        "127.0.0.1",
        `${U}@web1`,
        [
          "echo carol",
        ],
      );
      assert.equal(ok.stdout, "carol\n", ok.stderr);
      const before = await rowCount();
      const bad = await ssh({ bind: "127.0.0.12", password: "nope" }, env.port, "127.0.0.1", `${U}@web1`, [
        "true",
      ]);
      assert.equal(bad.code, 255);
      assert.match(bad.stderr, /Permission denied/);
      assert.equal(await rowCount(), before);
    });

    await t.step("the forwarded agent logs in to the backend and stays usable there", async () => {
      const agentKey = await env.key("agentkey");
      await Deno.writeTextFile(authorized, agentKey.pub + "\n", { append: true });
      const sock = join(agentDir, "agent.sock");
      agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", sock], stdout: "null", stderr: "null" })
        .spawn();
      for (let i = 0; i < 100; i++) {
        try {
          await Deno.stat(sock);
          break;
        } catch (_e) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const add = await runCmd("ssh-add", [agentKey.path], { env: { SSH_AUTH_SOCK: sock } });
      assert.equal(add.code, 0, add.stderr);
      const r = await sshWith({ bind: "127.0.0.10", key: alice.path }, env.port, "127.0.0.1", `${U}@web1`, [
        "-A",
      ], [
        "ssh-add -l",
      ], { env: { SSH_AUTH_SOCK: sock } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /agentkey/);
      await waitInactive();
      const s = await lastSession();
      assert.equal(s.metadata.backend_auth, "agent");
      assert.equal(s.metadata.agent_forwarded, true);
      assert.equal(s.ssh_agent_used, true);
    });

    await t.step("without agent, password or appliance key the user gets a clear message", async () => {
      const before = await rowCount();
      const r = await ssh({ bind: "127.0.0.10", key: alice.path }, env.port, "127.0.0.1", `${U}@web1`, [
        "true",
      ]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /web1 refused the login\. Use ssh -A/);
      assert.equal(await rowCount(), before);
      const f = await audits("ssh.backend_failed");
      assert.equal(f.at(-1)?.details.code, "no_credentials");
    });

    const denied = async (bind: string, user: string, key = alice.path) => {
      const before = await rowCount();
      const r = await ssh({ bind, key }, env.port, "127.0.0.1", user, ["true"]);
      assert.equal(r.code, 255, r.stdout);
      assert.equal(await rowCount(), before);
      await new Promise((r) => setTimeout(r, 100));
      return r.stderr;
    };
    const lastDenial = async () => (await audits("ssh.access_denied")).at(-1)!;

    await t.step(
      "an unknown source IP is denied with a reference, the audit log has the reason",
      async () => {
        const err = await denied("127.0.0.99", `${U}@web1`);
        const m = /access denied \(reference ([a-z0-9]+)\)/.exec(err);
        assert.ok(m, err);
        const a = await lastDenial();
        assert.equal(a.details.reason, "unknown_source_ip");
        assert.equal(a.details.ref, m[1]);
        assert.equal(a.actor, "ip:127.0.0.99");
        // LogLevel ERROR hides banners: the disconnect's description carries the same reference
        const quiet = await ssh(
          { bind: "127.0.0.99", key: alice.path, opts: ["LogLevel=ERROR"] },
          env.port,
          "127.0.0.1",
          `${U}@web1`,
          ["true"],
        );
        assert.equal(quiet.code, 255);
        assert.doesNotMatch(
          quiet.stderr,
          /^jumphost: access denied/m,
          "the banner is hidden at LogLevel ERROR",
        );
        const q =
          /Received disconnect from \S+ port \d+:14: jumphost: access denied \(reference ([a-z0-9]+)\)/
            .exec(quiet.stderr);
        assert.ok(q, quiet.stderr);
        // a repeat from the same unknown address within the minute is folded into that minute's summary
        // row, which lists the references (written here at once instead of at the minute's end)
        await env.proxy.auditsSettled();
        const summary = await lastDenial();
        assert.equal(summary.details.aggregated, true);
        assert.equal(summary.details.count, 1);
        assert.deepEqual(summary.details.refs, [q[1]]);
      },
    );

    await t.step("a key that is not the user's is refused", async () => {
      const err = await denied("127.0.0.10", `${U}@web1`, other.path);
      assert.match(err, /Permission denied/);
      const f = (await audits("ssh.auth_failed")).at(-1)!;
      assert.equal(f.actor, "ip:127.0.0.10");
      assert.deepEqual((f.details.attempts as { outcome: string }[]).map((a) => a.outcome), [
        "unregistered_key",
      ]);
    });

    await t.step("a login outside the policy's list is denied", async () => {
      assert.match(await denied("127.0.0.13", `${U}@web1`), /access denied/);
      const a = await lastDenial();
      assert.equal(a.details.reason, "login_not_allowed");
      assert.equal(a.target, "web1");
      assert.equal(a.details.login, U);
    });

    await t.step("an expired grant is denied", async () => {
      assert.match(await denied("127.0.0.14", `${U}@web1`), /access denied/);
      assert.equal((await lastDenial()).details.reason, "expired");
    });

    await t.step(
      "an unknown server name reads as no grant (an access request is offered); a missing one is asked for",
      async () => {
        // a user who proved a key reads the same as for a server without a grant: nothing tells which servers exist
        const unknown = await denied("127.0.0.10", `${U}@nosuch`);
        assert.match(unknown, /access denied \(reference/);
        assert.doesNotMatch(unknown, /unknown or unavailable server/);
        assert.equal((await lastDenial()).details.reason, "unknown_server");
        assert.match(await denied("127.0.0.15", U), /say which server you want: ssh LOGIN@SERVER@/);
        assert.equal((await lastDenial()).details.reason, "ambiguous");
      },
    );

    await t.step("on a shared source address the key tells the users apart", async () => {
      const sam = await env.key("sam"), sue = await env.key("sue");
      await env.addUser("sam", "127.0.0.40", { keys: [sam.pub], shared: true });
      await env.addUser("sue", "127.0.0.40", { keys: [sue.pub], shared: true });
      await env.addServer("web4");
      await Deno.writeTextFile(authorized, (await env.applianceKey("web4")) + "\n", { append: true });
      await env.grant("sam", "web4");
      const ok = await ssh({ bind: "127.0.0.40", key: sam.path }, env.port, "127.0.0.1", `${U}@web4`, [
        "echo sam",
      ]);
      assert.equal(ok.stdout, "sam\n", ok.stderr);
      assert.match(await denied("127.0.0.40", `${U}@web4`, sue.path), /access denied/);
      const a = await lastDenial();
      assert.equal(a.actor, "sue");
      assert.equal(a.details.reason, "no_policy");
    });

    await t.step("a backend host key that differs from the pinned one denies the session", async () => {
      await env.applianceKey("web3");
      const err = await denied("127.0.0.10", `${U}@web3`);
      assert.match(err, /host key of web3 does not match the pinned key/);
      const m = (await audits("ssh.host_key_mismatch")).at(-1)!;
      assert.equal(m.target, "web3");
      assert.equal(m.details.presented, env.sshd.hostKey);
    });
  } finally {
    if (agent) {
      (agent as Deno.ChildProcess).kill();
      await (agent as Deno.ChildProcess).status;
    }
    await Deno.remove(agentDir, { recursive: true }).catch(() => {});
    await env.close();
  }
});
