// e2e: a server's password_passthrough decides whether the password typed at the jump may reach the backend.
// Real OpenSSH client → proxy → real sshd (LogLevel VERBOSE: its log names every password attempt). Off: the
// backend never sees the jump password (the appliance key or the user's agent log in instead, or the user
// reads why not); on: the password goes through as before.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { type Sshd, startSshd, TEST_OS_PASSWORD } from "./helpers/sshd.ts";

interface Audit {
  action: string;
  actor: string;
  target: string | null;
  details: Record<string, unknown>;
}

Deno.test("ssh password passthrough: off keeps the jump password from the backend, on passes it", async (t) => {
  const env = await startSshEnv();
  let pwOnly: Sshd | null = null;
  try {
    const U = env.sshd.user;
    // only password authentication: with passthrough off nothing the proxy may use can log in here
    pwOnly = await startSshd({ overrideConfig: ["PubkeyAuthentication no"] });
    await env.addServer("closed", { passwordPassthrough: false });
    await env.addServer("open"); // the default: on
    await env.addServer("pwonly", { sshd: pwOnly, passwordPassthrough: false });
    await env.addServer("sealed", { passwordPassthrough: false }); // off and never an appliance key
    // bob's jump password is also the backend account's password: passthrough would log him in
    await env.addUser("bob", "127.0.0.31", { password: TEST_OS_PASSWORD });
    await env.addUser("carol", "127.0.0.32"); // known by address only
    for (const s of ["closed", "open", "pwonly", "sealed"]) {
      await env.grant("bob", s);
      await env.grant("carol", s);
    }
    const audits = async (action: string) =>
      await env.db.sql<Audit[]>`SELECT action, actor, target, details FROM audit_log
        WHERE action = ${action} ORDER BY id`;
    const waitAudit = async (action: string, n: number) => {
      for (let i = 0; i < 100 && (await audits(action)).length < n; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return await audits(action);
    };
    const rowCount = async () => Number((await env.db.sql`SELECT count(*) AS n FROM sessions`)[0].n);
    const lastClosed = async () => {
      for (let i = 0;; i++) {
        const [row] = await env.db.sql<{ is_active: boolean; metadata: Record<string, unknown> }[]>`
          SELECT is_active, metadata FROM sessions ORDER BY id DESC LIMIT 1`;
        if (row && !row.is_active) return row;
        if (i > 200) throw new Error(`session not closed: ${JSON.stringify(row)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    /** sshd's lines about password authentication (VERBOSE logs each attempt, failed or accepted) */
    const passwordLines = (d: Sshd) => d.log().split("\n").filter((l) => /password/i.test(l));
    const bob = (method: string): ClientId => ({
      bind: "127.0.0.31",
      password: TEST_OS_PASSWORD,
      opts: [`PreferredAuthentications=${method}`],
    });

    await t.step("off, no other credential: the backend is not asked, bob reads why", async () => {
      for (const method of ["password", "keyboard-interactive"]) {
        const before = passwordLines(env.sshd).length;
        const rows = await rowCount();
        const fails = (await audits("ssh.backend_failed")).length;
        const r = await ssh(bob(method), env.port, "127.0.0.1", `${U}@closed`, ["true"]);
        assert.equal(r.code, 255, r.stdout);
        assert.match(r.stderr, /closed refused the login\. Your jump password is not passed to closed/);
        assert.match(r.stderr, /password passthrough is off/);
        const f = (await waitAudit("ssh.backend_failed", fails + 1)).at(-1)!;
        assert.equal(f.target, "closed");
        assert.equal(f.details.code, "no_credentials");
        assert.equal(await rowCount(), rows);
        assert.deepEqual(passwordLines(env.sshd).slice(before), [], "sshd saw no password attempt");
      }
    });

    await t.step("off, with the appliance's key: bob logs in, the backend gets the key only", async () => {
      const pub = await env.applianceKey("closed");
      await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
      const before = passwordLines(env.sshd).length;
      const r = await ssh(bob("password"), env.port, "127.0.0.1", `${U}@closed`, ["echo key-ok"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "key-ok\n");
      const row = await lastClosed();
      assert.equal(row.metadata.jump_auth, "password");
      assert.equal(row.metadata.backend_auth, "appliance_key");
      assert.match(JSON.stringify(row.metadata), /jump password was not passed to the backend/);
      assert.deepEqual(passwordLines(env.sshd).slice(before), []);
      assert.match(env.sshd.log(), /Accepted publickey for jhtest/);
    });

    await t.step("off, a password-only backend: refused with a clear message, no password sent", async () => {
      const pub = await env.applianceKey("pwonly"); // offered and refused: publickey is off there
      assert.ok(pub);
      const fails = (await audits("ssh.backend_failed")).length;
      const r = await ssh(bob("keyboard-interactive"), env.port, "127.0.0.1", `${U}@pwonly`, ["true"]);
      assert.equal(r.code, 255, r.stdout);
      assert.match(r.stderr, /pwonly refused the login\. Your jump password is not passed to pwonly/);
      const f = (await waitAudit("ssh.backend_failed", fails + 1)).at(-1)!;
      assert.equal(f.details.code, "auth_failed");
      assert.match(String(f.details.detail), /tried appliance_key\)/);
      assert.deepEqual(passwordLines(pwOnly!), [], pwOnly!.log());
    });

    await t.step("off, a user known by address only: a password is refused at the jump", async () => {
      const before = passwordLines(env.sshd).length;
      const denials = (await audits("ssh.access_denied")).length;
      const r = await ssh(
        { bind: "127.0.0.32", password: TEST_OS_PASSWORD, opts: ["PreferredAuthentications=password"] },
        env.port,
        "127.0.0.1",
        `${U}@sealed`,
        ["true"],
      );
      assert.equal(r.code, 255, r.stdout);
      assert.match(r.stderr, /sealed does not accept passwords through the jump host/);
      const d = (await waitAudit("ssh.access_denied", denials + 1)).at(-1)!;
      assert.equal(d.actor, "carol");
      assert.equal(d.details.reason, "passthrough_disabled");
      assert.deepEqual(passwordLines(env.sshd).slice(before), []);
    });

    await t.step("on (the default): the jump password logs in to the backend as before", async () => {
      const before = passwordLines(env.sshd).length;
      for (const method of ["password", "keyboard-interactive"]) {
        const r = await ssh(bob(method), env.port, "127.0.0.1", `${U}@open`, ["echo pw-ok"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "pw-ok\n");
        const row = await lastClosed();
        assert.equal(row.metadata.backend_auth, "password");
      }
      const lines = passwordLines(env.sshd).slice(before);
      assert.equal(lines.filter((l) => /Accepted password for jhtest/.test(l)).length, 2, lines.join("\n"));
    });
  } finally {
    await pwOnly?.stop();
    await env.close();
  }
});
