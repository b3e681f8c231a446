// Browser end to end: console logins with directory (LDAP) accounts, Chromium against startWeb with a real
// slapd over ldaps://. The role comes from the directory groups (ldap_console_roles): an admin may open the
// console accounts page, an auditor is refused there; a wrong password and an account in no mapped group
// are refused; local accounts keep working.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { ldapGroup, ldapPerson, slapdSettings, startSlapd } from "./helpers/slapd.ts";
import { resolveLdapConfig } from "../core/ldap/config.ts";
import { startWeb } from "../web/mod.ts";

Deno.test("console in Chromium: directory accounts log in with their LDAP password, role from their groups", async () => {
  const slapd = await startSlapd();
  await slapd.modify(
    "ldapadd",
    [
      ldapPerson("carol", "carol-ldap-pw"),
      ldapPerson("dave", "dave-ldap-pw"),
      ldapPerson("eve", "eve-ldap-pw"),
      ldapGroup("jump-admins", ["carol"]),
      ldapGroup("auditors", ["dave", "carol"]),
    ].join("\n"),
  );
  const directory = resolveLdapConfig(
    {},
    slapdSettings(slapd, { JUMPHOST_LDAP_CONSOLE_ROLES: '{"jump-admins":"admin","auditors":"auditor"}' }),
    Deno.readTextFileSync,
  )!;
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-e2e-ldap-" });
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
      dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: "/nonexistent",
      ipPool: null,
      ldap: directory,
    },
    {
      sql: db.sql,
      nodeId: "e2e-node",
      log: () => {},
      listenerStatus: () => [],
      killSession: () => Promise.resolve(false),
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("directory_console");
  try {
    const page = b.page;
    const logIn = async (name: string, password: string) => {
      await page.context().clearCookies();
      await page.goto(`${base}/login`);
      await page.fill("#name", name);
      await page.fill("#password", password);
      await page.click("#login-submit");
      await page.waitForLoadState();
    };
    const roleOf = async (name: string) =>
      (await db.sql<{ role: string; directory_dn: string }[]>`
        SELECT role, directory_dn FROM console_users WHERE name = ${name}`)[0];

    await logIn("carol", "wrong-pw");
    await page.waitForSelector("#login-error");
    assert.equal(await roleOf("carol"), undefined);

    await logIn("carol", "carol-ldap-pw");
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal((await roleOf("carol")).role, "admin");
    assert.match((await roleOf("carol")).directory_dn, /^uid=carol,/);
    const admins = await page.goto(`${base}/console-users`);
    assert.equal(admins!.status(), 200);

    await logIn("dave", "dave-ldap-pw");
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal((await roleOf("dave")).role, "auditor");
    const refused = await page.goto(`${base}/console-users`);
    assert.equal(refused!.status(), 403);

    // in no mapped group: no console account
    await logIn("eve", "eve-ldap-pw");
    await page.waitForSelector("#login-error");
    assert.equal(await roleOf("eve"), undefined);
    const [audit] = await db.sql<{ details: { reason: string } }[]>`
      SELECT details FROM audit_log WHERE action = 'console.login_failed' AND target = 'eve' ORDER BY id LIMIT 1`;
    assert.equal(audit.details.reason, "no_console_role");

    // carol leaves jump-admins: at her next login she is an auditor
    await slapd.modify(
      "ldapmodify",
      `dn: cn=jump-admins,ou=groups,dc=example,dc=test\nchangetype: modify\ndelete: member\nmember: uid=carol,ou=people,dc=example,dc=test\n-\nadd: member\nmember: uid=dave,ou=people,dc=example,dc=test\n`,
    );
    await logIn("carol", "carol-ldap-pw");
    assert.equal((await roleOf("carol")).role, "auditor");
    const [roleAudit] = await db
      .sql`SELECT 1 FROM audit_log WHERE action = 'console.user_role' AND target = 'carol'`;
    assert.ok(roleAudit);

    // a local account still logs in with its own password
    const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
    const given = /password: (\S+)/.exec(await cli.ok(["admin", "add", "root", "--role", "admin"]))![1];
    await logIn("root", given);
    assert.equal(new URL(page.url()).pathname, "/account");
  } finally {
    await b.close();
    await web.stop();
    await db.close();
    await slapd.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
