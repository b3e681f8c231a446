// e2e: serve with a directory configured (real slapd over ldaps://): its schedule syncs at start, and the SSH
// worker checks a directory user's password with an LDAP bind (OpenSSH → serve's proxy → real sshd).
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { ssh } from "./helpers/ssh_clients.ts";
import { ldapPerson, slapdSettings, startSlapd } from "./helpers/slapd.ts";
import { updateUser } from "../db/users.ts";
import { createPolicy } from "../db/policies.ts";

Deno.test("serve: the directory is synced at start and its passwords open SSH sessions", async () => {
  const slapd = await startSlapd();
  await slapd.modify("ldapadd", ldapPerson("dora", "dora-ldap-pw"));
  const env = await startServeEnv({ env: slapdSettings(slapd, { JUMPHOST_LDAP_SYNC_MINUTES: "60" }) });
  try {
    const sql = env.db.sql;
    let synced = false;
    for (let i = 0; i < 200 && !synced; i++) {
      synced = (await sql`SELECT 1 FROM users WHERE name = 'dora' AND directory_dn IS NOT NULL`).length > 0;
      if (!synced) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(synced, "serve synced the directory at start");
    const [audit] = await sql<{ actor: string }[]>`
      SELECT actor FROM audit_log WHERE action = 'user.create' AND target = 'dora'`;
    assert.match(audit.actor, /^directory:/);
    await updateUser(sql, "dora", { addSourceIps: [{ cidr: "127.0.0.62" }] }, "test");
    await createPolicy(sql, {
      user: "dora",
      server: "web1",
      validFrom: new Date(Date.now() - 60_000),
      validUntil: new Date(Date.now() + 3_600_000),
    }, "test");
    const [, server] = env.target.split("@");
    const login = (password: string) =>
      ssh(
        { bind: "127.0.0.62", password, opts: ["PreferredAuthentications=password"] },
        env.ports.ssh,
        "127.0.0.1",
        `${env.target.split("@")[0]}@${server}`,
        ["echo via-serve"],
      );
    let ok = await login("dora-ldap-pw");
    // the worker's policy snapshot follows NOTIFY: allow it a moment
    for (let i = 0; i < 20 && ok.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      ok = await login("dora-ldap-pw");
    }
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "via-serve\n");
    assert.equal((await login("not-dora")).code, 255);
  } finally {
    await env.close();
    await slapd.stop();
  }
});
