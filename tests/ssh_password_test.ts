// e2e: jump passwords after the login-handling audit. OpenSSH → proxy → real sshd. On a shared source the
// proxy checks one candidate's password (the one the policy admits), not every password holder's; the jump
// password reaches a backend only where the server allows passthrough; a password hashed at the old scrypt
// cost (N=2^14) is rehashed at OWASP's at the next SSH login.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { ssh } from "./helpers/ssh_clients.ts";
import { TEST_OS_PASSWORD } from "./helpers/sshd.ts";
import { updateServer } from "../db/servers.ts";
import { hashPassword, verifyPassword } from "../policy/password.ts";

Deno.test("ssh passwords: one candidate on a shared source, passthrough only where allowed, rehash at login", async (t) => {
  const env = await startSshEnv();
  try {
    const U = env.sshd.user;
    const sql = env.db.sql;
    const authorized = join(env.sshd.dir, "authorized", U);
    for (const s of ["web1", "web2"]) {
      await env.addServer(s);
      await Deno.writeTextFile(authorized, (await env.applianceKey(s)) + "\n", { append: true });
    }
    await env.addServer("web3"); // no appliance key: the backend gets the typed password or nothing
    await env.addUser("ann", "127.0.0.50", { password: "ann-jump-pw-1", shared: true });
    await env.addUser("ben", "127.0.0.50", { password: "ben-jump-pw-1", shared: true });
    await env.addUser("bob", "127.0.0.51", { password: TEST_OS_PASSWORD });
    await env.addUser("cal", "127.0.0.52", { password: "cal-jump-pw-1" });
    await env.grant("ann", "web1");
    await env.grant("ben", "web2");
    await env.grant("bob", "web3");
    await env.grant("cal", "web1");
    const login = (bind: string, password: string, server: string) =>
      ssh(
        { bind, password, opts: ["PreferredAuthentications=password"] },
        env.port,
        "127.0.0.1",
        `${U}@${server}`,
        [
          "echo in",
        ],
      );
    const lastSession = async () =>
      (await sql<{ user_name: string; metadata: { backend_auth?: string } }[]>`
        SELECT user_name, metadata FROM sessions ORDER BY id DESC LIMIT 1`)[0];

    await t.step("a shared source: the password of the user the policy admits there", async () => {
      const ann = await login("127.0.0.50", "ann-jump-pw-1", "web1");
      assert.equal(ann.code, 0, ann.stderr);
      assert.equal(ann.stdout, "in\n");
      assert.equal((await lastSession()).user_name, "ann");
      const ben = await login("127.0.0.50", "ben-jump-pw-1", "web2");
      assert.equal(ben.code, 0, ben.stderr);
      assert.equal((await lastSession()).user_name, "ben");
      // ben's password at web1, where only ann is admitted: ben is not even tried
      const wrong = await login("127.0.0.50", "ben-jump-pw-1", "web1");
      assert.equal(wrong.code, 255);
      let failed: { details: { attempts: { outcome: string }[] } } | undefined;
      for (let i = 0; i < 100 && !failed; i++) {
        [failed] = await sql<{ details: { attempts: { outcome: string }[] } }[]>`
          SELECT details FROM audit_log WHERE action = 'ssh.auth_failed' ORDER BY id DESC LIMIT 1`;
        if (!failed) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(failed!.details.attempts.every((a) => a.outcome === "bad_password"));
    });

    await t.step("the jump password goes to the backend only where passthrough is allowed", async () => {
      const ok = await login("127.0.0.51", TEST_OS_PASSWORD, "web3");
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await lastSession()).metadata.backend_auth, "password");
      await updateServer(sql, "web3", { passwordPassthrough: false }, "test", null);
      await env.reloadPolicy();
      const count = (re: RegExp) => (env.sshd.log().match(re) ?? []).length;
      const [accepted, refused] = [count(/Accepted password/g), count(/Failed password/g)];
      const kept = await login("127.0.0.51", TEST_OS_PASSWORD, "web3");
      assert.equal(kept.code, 255);
      assert.match(kept.stderr, /web3 refused the login/);
      // the backend never saw the password: neither accepted nor refused there
      assert.ok(accepted > 0, "the first login was a password login at the backend");
      assert.deepEqual([count(/Accepted password/g), count(/Failed password/g)], [accepted, refused]);
    });

    await t.step("a password hashed at N=2^14 is rehashed at N=2^17 at the next login", async () => {
      const old = await hashPassword("cal-jump-pw-1", { N: 16384, r: 8, p: 1 });
      await sql`UPDATE users SET password_hash = ${old} WHERE name = 'cal'`;
      const r = await login("127.0.0.52", "cal-jump-pw-1", "web1");
      assert.equal(r.code, 0, r.stderr);
      let hash = old;
      for (let i = 0; i < 100 && hash === old; i++) {
        await new Promise((res) => setTimeout(res, 50));
        hash = (await sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE name = 'cal'`)[0]
          .password_hash;
      }
      assert.match(hash, /^scrypt\$131072\$8\$1\$/);
      assert.ok(await verifyPassword("cal-jump-pw-1", hash));
      const again = await login("127.0.0.52", "cal-jump-pw-1", "web1");
      assert.equal(again.code, 0, again.stderr);
    });
  } finally {
    await env.close();
  }
});
