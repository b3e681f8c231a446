import assert from "node:assert/strict";
import { LdapConfigError, resolveLdapConfig } from "./config.ts";

const base = {
  ldap_url: "ldaps://ipa.example.com",
  ldap_bind_dn: "uid=jumphost,cn=sysaccounts,cn=etc,dc=example,dc=com",
  ldap_bind_password_file: "/etc/jumphost/ldap.pw",
  ldap_user_base: "cn=users,cn=accounts,dc=example,dc=com",
};
const files = (p: string) => {
  if (p === "/etc/jumphost/ldap.pw") return "s3cret\n";
  throw new Error("no such file");
};

Deno.test("ldap config: off without ldap_url; defaults; password from its file", () => {
  assert.equal(resolveLdapConfig({}, {}, files), null);
  const c = resolveLdapConfig(base, {}, files)!;
  assert.equal(c.bindPassword, "s3cret");
  assert.equal(c.userFilter, "(objectClass=posixAccount)");
  assert.equal(c.loginAttr, "uid");
  assert.equal(c.memberAttr, "member");
  assert.equal(c.syncMinutes, 15);
  assert.equal(c.sshKeyAttr, null);
});

Deno.test("ldap config: the environment wins, password from JUMPHOST_LDAP_BIND_PASSWORD", () => {
  const c = resolveLdapConfig(base, {
    JUMPHOST_LDAP_URL: "ldaps://10.0.0.1:636",
    JUMPHOST_LDAP_BIND_PASSWORD: "from-env",
    JUMPHOST_LDAP_CONSOLE_ROLES: '{"admins":"admin","ops":"operator"}',
  }, files)!;
  assert.equal(c.url, "ldaps://10.0.0.1:636");
  assert.equal(c.bindPassword, "from-env");
  assert.deepEqual(c.consoleRoles, { admins: "admin", ops: "operator" });
});

Deno.test("ldap config: plain ldap:// only with ldap_allow_insecure; bad values named", () => {
  const err = (file: Record<string, unknown>, key: string) =>
    assert.throws(() => resolveLdapConfig({ ...base, ...file }, {}, files), (e) => {
      assert.ok(e instanceof LdapConfigError);
      assert.equal(e.key, key);
      return true;
    });
  err({ ldap_url: "ldap://ipa.example.com" }, "ldap_url");
  assert.equal(
    resolveLdapConfig({ ...base, ldap_url: "ldap://127.0.0.1:389", ldap_allow_insecure: true }, {}, files)!
      .url,
    "ldap://127.0.0.1:389",
  );
  err({ ldap_url: "https://x" }, "ldap_url");
  err({ ldap_bind_dn: undefined }, "ldap_bind_dn");
  err({ ldap_bind_password_file: "/missing" }, "ldap_bind_password_file");
  err({ ldap_bind_password_file: undefined }, "ldap_bind_password_file");
  err({ ldap_sync_minutes: -1 }, "ldap_sync_minutes");
  err({ ldap_console_roles: { ops: "root" } }, "ldap_console_roles");
  err({ ldap_login_attr: "uid)(x" }, "ldap_login_attr");
});
