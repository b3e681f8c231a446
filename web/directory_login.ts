// A console login with a directory (LDAP) account: the password by a bind as the user, the role from the
// groups (ldap_console_roles). The directory being down fails the login (closed), it is not an error page.
import type { LdapConfig } from "../core/ldap/config.ts";
import { ldapAuthenticate, ldapGroupNames } from "../core/ldap/client.ts";
import { consoleRoleFor, type DirectoryConsoleRole } from "../core/ldap/roles.ts";

export type DirectoryRole =
  | { ok: true; dn: string; role: DirectoryConsoleRole }
  | { ok: false; dn: string | null };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function directoryConsoleRole(
  directory: LdapConfig,
  name: string,
  password: string,
): Promise<DirectoryRole> {
  if (!NAME.test(name)) return { ok: false, dn: null };
  try {
    const dn = await ldapAuthenticate(directory, name, password);
    if (dn === null) return { ok: false, dn: null };
    const role = consoleRoleFor(directory.consoleRoles, await ldapGroupNames(directory, dn));
    return role === null ? { ok: false, dn } : { ok: true, dn, role };
  } catch {
    return { ok: false, dn: null };
  }
}
