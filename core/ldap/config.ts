// The directory (LDAP) section of the configuration: its keys, defaults and validation. Pure.
// Only ldaps:// is accepted: StartTLS upgrades an open socket in place, which Deno's node:tls does not do
// (tested against slapd: the handshake is cut off), so ldap:// would mean clear-text passwords. Plain
// ldap:// is allowed only with ldap_allow_insecure, meant for tests on loopback.
export interface LdapConfig {
  url: string;
  caFile: string | null;
  bindDn: string;
  /** the service account's password (from ldap_bind_password_file or JUMPHOST_LDAP_BIND_PASSWORD) */
  bindPassword: string;
  userBase: string;
  userFilter: string;
  loginAttr: string;
  groupBase: string | null;
  groupFilter: string;
  memberAttr: string;
  sshKeyAttr: string | null;
  /** users matching it are disabled (e.g. FreeIPA's `(nsAccountLock=TRUE)`) */
  disabledFilter: string | null;
  syncMinutes: number;
  /** console role per directory group name (cn): admin, operator or auditor */
  consoleRoles: Record<string, string>;
  timeoutMs: number;
}

export class LdapConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`);
    this.name = "LdapConfigError";
  }
}

/** The configuration file keys of the directory section. */
export const LDAP_FILE_KEYS = [
  "ldap_url",
  "ldap_ca_file",
  "ldap_allow_insecure",
  "ldap_bind_dn",
  "ldap_bind_password_file",
  "ldap_user_base",
  "ldap_user_filter",
  "ldap_login_attr",
  "ldap_group_base",
  "ldap_group_filter",
  "ldap_member_attr",
  "ldap_ssh_key_attr",
  "ldap_disabled_filter",
  "ldap_sync_minutes",
  "ldap_console_roles",
] as const;

type Raw = Record<string, unknown>;

const ROLES = ["admin", "operator", "auditor"];

/**
 * Resolves the directory section from the config file's keys (the password from a file's contents or the
 * environment, read by the caller). Null when ldap_url is not set.
 */
export function resolveLdapConfig(
  file: Raw,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): LdapConfig | null {
  const get = (k: string): unknown => {
    const e = env[`JUMPHOST_${k.toUpperCase()}`];
    return e !== undefined && e !== "" ? e : file[k];
  };
  const str = (k: string): string | null => {
    const v = get(k);
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw new LdapConfigError(k, "expected a string");
    return v;
  };
  const need = (k: string): string => {
    const v = str(k);
    if (v === null || v.trim() === "") throw new LdapConfigError(k, "is required with ldap_url");
    return v;
  };
  const url = str("ldap_url");
  if (url === null) return null;
  const insecure = get("ldap_allow_insecure") === true || get("ldap_allow_insecure") === "true";
  if (!/^ldaps?:\/\/[^\s/]+(:\d{1,5})?\/?$/.test(url)) {
    throw new LdapConfigError("ldap_url", "must be ldaps://HOST[:PORT]");
  }
  if (url.startsWith("ldap://") && !insecure) {
    throw new LdapConfigError(
      "ldap_url",
      "must be ldaps:// (plain ldap:// sends passwords in clear; StartTLS is not supported)",
    );
  }
  const passwordFile = str("ldap_bind_password_file");
  const envPassword = env.JUMPHOST_LDAP_BIND_PASSWORD;
  let bindPassword: string;
  if (envPassword) bindPassword = envPassword;
  else if (passwordFile) {
    try {
      bindPassword = readFile(passwordFile).replace(/\r?\n$/, "");
    } catch (e) {
      throw new LdapConfigError("ldap_bind_password_file", `cannot read: ${(e as Error).message}`);
    }
  } else {
    throw new LdapConfigError(
      "ldap_bind_password_file",
      "the service account needs a password (ldap_bind_password_file or JUMPHOST_LDAP_BIND_PASSWORD)",
    );
  }
  if (bindPassword === "") throw new LdapConfigError("ldap_bind_password_file", "the password is empty");
  const minutes = Number(get("ldap_sync_minutes") ?? 15);
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
    throw new LdapConfigError(
      "ldap_sync_minutes",
      "must be a whole number of minutes 0-1440 (0 = no schedule)",
    );
  }
  const rolesRaw = get("ldap_console_roles") ?? {};
  let roles: unknown = rolesRaw;
  if (typeof rolesRaw === "string") {
    try {
      roles = JSON.parse(rolesRaw);
    } catch {
      throw new LdapConfigError("ldap_console_roles", "must be a JSON object {group: role}");
    }
  }
  if (roles === null || typeof roles !== "object" || Array.isArray(roles)) {
    throw new LdapConfigError("ldap_console_roles", "must be an object {group: role}");
  }
  for (const [g, r] of Object.entries(roles as Record<string, unknown>)) {
    if (typeof r !== "string" || !ROLES.includes(r)) {
      throw new LdapConfigError("ldap_console_roles", `${g}: role must be admin, operator or auditor`);
    }
  }
  const loginAttr = str("ldap_login_attr") ?? "uid";
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(loginAttr)) {
    throw new LdapConfigError("ldap_login_attr", "must be an attribute name");
  }
  return {
    url,
    caFile: str("ldap_ca_file"),
    bindDn: need("ldap_bind_dn"),
    bindPassword,
    userBase: need("ldap_user_base"),
    userFilter: str("ldap_user_filter") ?? "(objectClass=posixAccount)",
    loginAttr,
    groupBase: str("ldap_group_base"),
    groupFilter: str("ldap_group_filter") ?? "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
    memberAttr: str("ldap_member_attr") ?? "member",
    sshKeyAttr: str("ldap_ssh_key_attr"),
    disabledFilter: str("ldap_disabled_filter"),
    syncMinutes: minutes,
    consoleRoles: roles as Record<string, string>,
    timeoutMs: 10_000,
  };
}
