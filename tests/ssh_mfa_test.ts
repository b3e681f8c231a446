// e2e: the SSH second factor. OpenSSH → proxy → real sshd; the client answers the proxy's
// keyboard-interactive "Verification code:" prompt through SSH_ASKPASS with a code made by oathtool at the
// moment it is asked (or a fixed code, to replay one). Enrolment as the CLI does it (pending until the
// first correct code), reuse refused, recovery codes good once, and MFA demanded by a grant or a server
// for a user without TOTP: denied with a clear message.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv, TEST_SECRET_KEY } from "./helpers/ssh_env.ts";
import { CLIENT_OPTS, type ClientId, runCmd, ssh } from "./helpers/ssh_clients.ts";
import { TEST_OS_PASSWORD } from "./helpers/sshd.ts";
import { enrolTotp, totpFactorOf } from "../db/totp.ts";
import { findUser } from "../db/users.ts";
import { updateServer } from "../db/servers.ts";

interface Audit {
  action: string;
  actor: string;
  target: string | null;
  success: boolean;
  details: Record<string, unknown>;
}

Deno.test("ssh mfa: TOTP at the SSH prompt after the key or password; reuse refused; recovery codes once", async (t) => {
  const env = await startSshEnv();
  const dir = await Deno.makeTempDir({ prefix: "jh-mfa-" });
  try {
    // answers the password prompt with JH_PASSWORD and the code prompt with JH_CODE, or else with a
    // fresh code from oathtool (RFC 6238, the secret base32)
    const askpass = join(dir, "askpass.sh");
    await Deno.writeTextFile(
      askpass,
      `#!/bin/sh
case "$1" in
  *"Verification code"*)
    if [ -n "$JH_CODE" ]; then printf '%s\\n' "$JH_CODE"; else oathtool --totp -b "$JH_TOTP_SECRET"; fi ;;
  *) printf '%s\\n' "$JH_PASSWORD" ;;
esac
`,
    );
    await Deno.chmod(askpass, 0o700);
    const alice = await env.key("alice");
    await env.addServer("web1");
    await env.addServer("web2");
    // the backend leg logs in with the appliance's key: this test is about the jump
    const authorized = join(env.sshd.dir, "authorized", env.sshd.user);
    for (const s of ["web1", "web2"]) {
      await Deno.writeTextFile(authorized, (await env.applianceKey(s)) + "\n", { append: true });
    }
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addUser("bob", "127.0.0.11", { password: TEST_OS_PASSWORD });
    await env.addUser("carol", "127.0.0.12", { keys: [alice.pub] });
    await env.addUser("dave", "127.0.0.13", { keys: [alice.pub] });
    await env.grant("alice", "web1");
    await env.grant("bob", "web1");
    await env.grant("carol", "web1", { requireMfa: true });
    await env.grant("dave", "web1");
    await env.grant("dave", "web2");
    await updateServer(env.db.sql, "web2", { requireMfa: true }, "test", null);
    await env.reloadPolicy();
    const U = env.sshd.user;
    const sql = env.db.sql;
    const audits = async (action: string) =>
      await sql<Audit[]>`SELECT action, actor, target, success, details FROM audit_log
        WHERE action = ${action} ORDER BY id`;
    const waitAudit = async (action: string, n: number) => {
      for (let i = 0; i < 100 && (await audits(action)).length < n; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return await audits(action);
    };
    const client = (bind: string, o: { key?: string; password?: string }): ClientId => ({
      bind,
      key: o.key,
      password: o.password ?? "unused",
      opts: [
        `PreferredAuthentications=${o.key ? "publickey," : "password,"}keyboard-interactive`,
      ],
    });
    const run = (
      id: ClientId,
      server: string,
      answers: { code?: string; secret?: string; password?: string },
    ) =>
      ssh(id, env.port, "127.0.0.1", `${U}@${server}`, ["echo mfa-ok"], {
        env: {
          SSH_ASKPASS: askpass,
          JH_CODE: answers.code ?? "",
          JH_TOTP_SECRET: answers.secret ?? "",
          JH_PASSWORD: answers.password ?? "",
        },
      });
    const oathtool = async (secret: string) => {
      const r = await runCmd("oathtool", ["--totp", "-b", secret]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };

    const aliceRow = (await findUser(sql, "alice"))!;
    const enrolled = await enrolTotp(
      sql,
      TEST_SECRET_KEY,
      { kind: "user", id: aliceRow.id, name: "alice" },
      "test",
    );
    assert.equal(
      (await totpFactorOf(sql, { kind: "user", id: aliceRow.id, name: "alice" }))?.confirmed,
      false,
    );
    let used = "";

    await t.step("key, then the code from oathtool: in; the pending factor becomes active", async () => {
      used = await oathtool(enrolled.secret);
      const r = await run(client("127.0.0.10", { key: alice.path }), "web1", { code: used });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "mfa-ok\n");
      const ok = (await waitAudit("ssh.mfa_ok", 1)).at(-1)!;
      assert.equal(ok.actor, "alice");
      assert.equal(ok.target, "web1");
      assert.equal(ok.details.method, "totp");
      assert.equal(ok.details.first_use, true);
      assert.equal(
        (await totpFactorOf(sql, { kind: "user", id: aliceRow.id, name: "alice" }))?.confirmed,
        true,
      );
      assert.equal((await audits("mfa.totp_confirmed")).length, 1);
    });

    await t.step("the same code again (inside its window) is refused as reused", async () => {
      const granted = (await audits("ssh.access_granted")).length;
      const r = await run(client("127.0.0.10", { key: alice.path }), "web1", { code: used });
      assert.equal(r.code, 255);
      assert.doesNotMatch(r.stdout, /mfa-ok/);
      assert.match(r.stderr, /Permission denied/);
      const failed = (await waitAudit("ssh.mfa_failed", 1)).at(-1)!;
      assert.equal(failed.details.reason, "reused");
      assert.equal(failed.success, false);
      assert.equal((await audits("ssh.access_granted")).length, granted, "no access granted");
    });

    await t.step("a wrong code is refused", async () => {
      const wrong = String((Number(await oathtool(enrolled.secret)) + 500_000) % 1_000_000).padStart(6, "0");
      const r = await run(client("127.0.0.10", { key: alice.path }), "web1", { code: wrong });
      assert.equal(r.code, 255);
      const failed = (await waitAudit("ssh.mfa_failed", 2)).at(-1)!;
      assert.equal(failed.details.reason, "wrong");
    });

    await t.step("a recovery code works once", async () => {
      const code = enrolled.recoveryCodes[3];
      const first = await run(client("127.0.0.10", { key: alice.path }), "web1", { code });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, "mfa-ok\n");
      const ok = (await waitAudit("ssh.mfa_ok", 2)).at(-1)!;
      assert.equal(ok.details.method, "recovery_code");
      assert.equal(
        (await totpFactorOf(sql, { kind: "user", id: aliceRow.id, name: "alice" }))?.recoveryCodesLeft,
        9,
      );
      const again = await run(client("127.0.0.10", { key: alice.path }), "web1", { code });
      assert.equal(again.code, 255);
      assert.equal((await waitAudit("ssh.mfa_failed", 3)).at(-1)!.details.reason, "wrong");
    });

    await t.step("password at the jump, then the code", async () => {
      const bobRow = (await findUser(sql, "bob"))!;
      const e = await enrolTotp(sql, TEST_SECRET_KEY, { kind: "user", id: bobRow.id, name: "bob" }, "test");
      const r = await run(client("127.0.0.11", { password: TEST_OS_PASSWORD }), "web1", {
        secret: e.secret,
        password: TEST_OS_PASSWORD,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "mfa-ok\n");
      const ok = (await waitAudit("ssh.mfa_ok", 3)).at(-1)!;
      assert.equal(ok.actor, "bob");
      // both through keyboard-interactive: the password round, then (partial success) the code round;
      // the code is the next step's (this step's was just used)
      const next = await runCmd("oathtool", [
        "--totp",
        "-b",
        e.secret,
        "-N",
        `@${Math.floor(Date.now() / 1000) + 30}`,
      ]);
      // (NumberOfPasswordPrompts counts keyboard-interactive rounds: two here, OpenSSH's default is three)
      const kbd = await runCmd("ssh", [
        ...CLIENT_OPTS,
        ...["-o", "BindAddress=127.0.0.11", "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=3"],
        ...["-o", "PreferredAuthentications=keyboard-interactive", "-p", String(env.port), "-l", `${U}@web1`],
        ...["127.0.0.1", "echo mfa-ok"],
      ], {
        env: {
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: ":0",
          JH_CODE: next.stdout.trim(),
          JH_PASSWORD: TEST_OS_PASSWORD,
        },
      });
      assert.equal(kbd.code, 0, kbd.stderr);
      assert.equal(kbd.stdout, "mfa-ok\n");
      assert.equal((await waitAudit("ssh.mfa_ok", 4)).length, 4);
    });

    await t.step("a grant that requires MFA denies a user without TOTP, with a clear message", async () => {
      const r = await run(client("127.0.0.12", { key: alice.path }), "web1", {});
      assert.equal(r.code, 255);
      assert.match(r.stderr, /verification code \(TOTP\) is required.*no authenticator\s+enrolled/s);
      const denied = (await waitAudit("ssh.access_denied", 1)).at(-1)!;
      assert.equal(denied.actor, "carol");
      assert.equal(denied.details.reason, "mfa_not_enrolled");
      assert.match(String(denied.details.detail), /grant requires MFA/);
    });

    await t.step(
      "a server that requires MFA: denied without TOTP; the same user elsewhere needs none",
      async () => {
        const r = await run(client("127.0.0.13", { key: alice.path }), "web2", {});
        assert.equal(r.code, 255);
        assert.match(r.stderr, /no authenticator\s+enrolled/);
        const denied = (await waitAudit("ssh.access_denied", 2)).at(-1)!;
        assert.equal(denied.actor, "dave");
        assert.match(String(denied.details.detail), /server web2 requires MFA/);
        const fine = await run(client("127.0.0.13", { key: alice.path }), "web1", {});
        assert.equal(fine.code, 0, fine.stderr);
        assert.equal(fine.stdout, "mfa-ok\n");
      },
    );
  } finally {
    await env.close();
    await Deno.remove(dir, { recursive: true });
  }
});
