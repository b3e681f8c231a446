// e2e: a directory (real OpenLDAP slapd over ldaps://) as the source of jump users. OpenSSH → proxy → real
// sshd with the LDAP password (a bind as the user), a wrong or empty one refused; `jumphost directory sync`
// (and --dry-run) brings users, groups and sshPublicKey keys in; a group policy gives access; a user deleted
// from the directory or locked (nsAccountLock) loses access at the next sync, a live session included.
import assert from "node:assert/strict";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { ssh } from "./helpers/ssh_clients.ts";
import { cliFor } from "./helpers/cli.ts";
import { LDAP_SUFFIX, ldapGroup, ldapPerson, slapdSettings, startSlapd } from "./helpers/slapd.ts";
import { resolveLdapConfig } from "../core/ldap/config.ts";
import { ldapAuthenticate } from "../core/ldap/client.ts";
import { updateUser } from "../db/users.ts";
import { createPolicy } from "../db/policies.ts";

Deno.test("directory (LDAP): bind auth over SSH, sync of users, groups and keys, cut-off at the next sync", async (t) => {
  const slapd = await startSlapd();
  const settings = slapdSettings(slapd);
  const directory = resolveLdapConfig({}, settings, Deno.readTextFileSync)!;
  const env = await startSshEnv({ directory });
  try {
    const U = env.sshd.user;
    const sql = env.db.sql;
    const bobKey = await env.key("bob");
    await slapd.modify(
      "ldapadd",
      [
        ldapPerson("alice", "alice-ldap-pw"),
        ldapPerson("bob", "bob-ldap-pw", bobKey.pub),
        ldapGroup("ops", ["alice", "bob"]),
      ]
        .join("\n"),
    );
    const cli = cliFor(env.db.url, settings);
    await env.addServer("web1");
    await Deno.writeTextFile(`${env.sshd.dir}/authorized/${U}`, (await env.applianceKey("web1")) + "\n", {
      append: true,
    });
    const login = (bind: string, password: string, cmd = ["echo in"], timeoutMs?: number) =>
      ssh(
        { bind, password, opts: ["PreferredAuthentications=password"] },
        env.port,
        "127.0.0.1",
        `${U}@web1`,
        cmd,
        {
          timeoutMs,
        },
      );

    await t.step("the client binds as the user; empty and wrong passwords fail", async () => {
      assert.equal(
        await ldapAuthenticate(directory, "alice", "alice-ldap-pw"),
        `uid=alice,ou=people,${LDAP_SUFFIX}`,
      );
      assert.equal(await ldapAuthenticate(directory, "alice", "nope"), null);
      assert.equal(await ldapAuthenticate(directory, "alice", ""), null);
      // a filter value is escaped: "*" matches no one rather than everyone
      assert.equal(await ldapAuthenticate(directory, "*", "alice-ldap-pw"), null);
    });

    await t.step("dry run changes nothing; sync creates users, the group and bob's key", async () => {
      const dry = await cli.ok(["directory", "sync", "--dry-run"]);
      assert.match(dry, /create user alice/);
      assert.match(dry, /dry run/);
      assert.equal((await sql`SELECT 1 FROM users WHERE name = 'alice'`).length, 0);
      const out = await cli.ok(["directory", "sync"]);
      assert.match(out, /create user alice/);
      assert.match(out, /create user group ops/);
      assert.match(out, /add alice to ops/);
      assert.match(out, /bob: \+key SHA256:/);
      const keys = await sql<{ from_directory: boolean }[]>`
        SELECT k.from_directory FROM user_ssh_keys k JOIN users u ON u.id = k.user_id WHERE u.name = 'bob'`;
      assert.deepEqual(keys.map((k) => k.from_directory), [true]);
      const audit = await sql`SELECT 1 FROM audit_log WHERE action = 'user.create' AND target = 'alice'`;
      assert.equal(audit.length, 1);
      // a second sync has nothing to do
      assert.match(await cli.ok(["directory", "sync"]), /made 0 change/);
    });

    // source addresses stay jumphost's own; the access comes from a policy on the synced group
    await updateUser(sql, "alice", { addSourceIps: [{ cidr: "127.0.0.60" }] }, "test");
    await updateUser(sql, "bob", { addSourceIps: [{ cidr: "127.0.0.61" }] }, "test");
    await createPolicy(sql, {
      userGroup: "ops",
      server: "web1",
      validFrom: new Date(Date.now() - 60_000),
      validUntil: new Date(Date.now() + 3_600_000),
    }, "test");
    await env.reloadPolicy();

    await t.step(
      "SSH with the directory password through the group's policy; a wrong one refused",
      async () => {
        const ok = await login("127.0.0.60", "alice-ldap-pw");
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, "in\n");
        const bad = await login("127.0.0.60", "wrong-pw");
        assert.equal(bad.code, 255);
      },
    );

    await t.step("the key from sshPublicKey logs bob in", async () => {
      const r = await ssh({ bind: "127.0.0.61", key: bobKey.path }, env.port, "127.0.0.1", `${U}@web1`, [
        "echo key",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "key\n");
    });

    await t.step("deleted from the directory: disabled at the next sync, the live session ends", async () => {
      const [{ max }] = await sql<{ max: number | null }[]>`SELECT max(id)::int AS max FROM sessions`;
      const live = login("127.0.0.60", "alice-ldap-pw", ["echo started; sleep 60; echo finished"], 45_000);
      let started = false;
      for (let i = 0; i < 300 && !started; i++) {
        started = (await sql`SELECT 1 FROM sessions WHERE user_name = 'alice' AND id > ${max ?? 0}
          AND ended_at IS NULL`).length > 0;
        if (!started) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(started, "alice's live session started");
      await new Promise((r) => setTimeout(r, 500)); // the shell is running
      await slapd.modify("ldapdelete", `uid=alice,ou=people,${LDAP_SUFFIX}\n`);
      const out = await cli.ok(["directory", "sync"]);
      assert.match(out, /disable user alice \(gone from the directory\)/);
      assert.match(out, /remove alice from ops/);
      const t0 = Date.now();
      const r = await live;
      assert.ok(Date.now() - t0 < 30_000, "the live session was ended, not run to its end");
      assert.doesNotMatch(r.stdout, /finished/);
      assert.match(r.stdout, /started/);
      let reason: string | null = null;
      for (let i = 0; i < 200 && reason === null; i++) {
        [{ termination_reason: reason }] = await sql<{ termination_reason: string | null }[]>`
          SELECT termination_reason FROM sessions WHERE user_name = 'alice' ORDER BY id DESC LIMIT 1`;
        if (reason === null) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(reason, "revoked");
      const again = await login("127.0.0.60", "alice-ldap-pw");
      assert.equal(again.code, 255);
    });

    await t.step("locked in the directory (nsAccountLock): disabled at the next sync", async () => {
      await slapd.modify(
        "ldapmodify",
        `dn: uid=bob,ou=people,${LDAP_SUFFIX}\nchangetype: modify\nadd: nsAccountLock\nnsAccountLock: TRUE\n`,
      );
      assert.equal(await ldapAuthenticate(directory, "bob", "bob-ldap-pw"), null);
      const out = await cli.ok(["directory", "sync"]);
      assert.match(out, /disable user bob/);
      const r = await ssh({ bind: "127.0.0.61", key: bobKey.path }, env.port, "127.0.0.1", `${U}@web1`, [
        "echo key",
      ]);
      assert.equal(r.code, 255);
    });
  } finally {
    await env.close();
    await slapd.stop();
  }
});
