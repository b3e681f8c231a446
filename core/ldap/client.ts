// Talks to the directory with npm:ldapts: the service account searches, a user proves a password by
// binding as themselves. Every connection is ldaps:// (see config.ts) verified against ldap_ca_file.
import { Buffer } from "node:buffer";
import { Client, EqualityFilter } from "ldapts";
import * as tls from "node:tls";
import type { LdapConfig } from "./config.ts";

export interface DirectoryUser {
  dn: string;
  login: string;
  email: string | null;
  fullName: string | null;
  sshKeys: string[];
  disabled: boolean;
}

export interface DirectoryGroup {
  dn: string;
  name: string;
  memberDns: string[];
}

function first(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined || x === null) return null;
  return Buffer.isBuffer(x) ? x.toString("utf8") : String(x);
}

function all(v: unknown): string[] {
  const xs = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return xs.map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x)));
}

function client(c: LdapConfig): Client {
  const ca = c.caFile ? [Deno.readTextFileSync(c.caFile)] : undefined;
  return new Client({
    url: c.url,
    timeout: c.timeoutMs,
    connectTimeout: c.timeoutMs,
    tlsOptions: { ca, rejectUnauthorized: true },
    // Deno's node:tls ignores the options of tls.connect(port, host, options), which ldapts calls
    createSecureConnection: ((port: number, host: string, options: tls.ConnectionOptions) =>
      tls.connect({
        ...options,
        port,
        host,
        servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      })) as never,
  });
}

async function withService<T>(c: LdapConfig, f: (cl: Client) => Promise<T>): Promise<T> {
  const cl = client(c);
  try {
    await cl.bind(c.bindDn, c.bindPassword);
    return await f(cl);
  } finally {
    await cl.unbind().catch(() => {});
  }
}

function userAttrs(c: LdapConfig): string[] {
  return [c.loginAttr, "mail", "cn", ...(c.sshKeyAttr ? [c.sshKeyAttr] : [])];
}

function and(...filters: (string | null)[]): string {
  const fs = filters.filter((f): f is string => f !== null);
  return fs.length === 1 ? fs[0] : `(&${fs.join("")})`;
}

/** The filter for one login, the value escaped (RFC 4515) by ldapts. */
export function loginFilter(c: LdapConfig, login: string): string {
  return and(c.userFilter, new EqualityFilter({ attribute: c.loginAttr, value: login }).toString());
}

/**
 * Checks a user's password: the service account finds the one entry for the login (not disabled), then a
 * bind as that entry with the password must succeed. An empty password is refused before any bind (an
 * empty-password simple bind is an anonymous bind, which servers accept).
 */
export async function ldapAuthenticate(
  c: LdapConfig,
  login: string,
  password: string,
): Promise<string | null> {
  if (password === "" || login === "") return null;
  const dn = await withService(c, async (cl) => {
    const r = await cl.search(c.userBase, {
      scope: "sub",
      filter: loginFilter(c, login),
      attributes: ["dn"],
      sizeLimit: 2,
    });
    if (r.searchEntries.length !== 1) return null;
    const found = r.searchEntries[0].dn;
    if (c.disabledFilter) {
      const d = await cl.search(found, { scope: "base", filter: c.disabledFilter, attributes: ["dn"] });
      if (d.searchEntries.length > 0) return null;
    }
    return found;
  });
  if (dn === null) return null;
  const user = client(c);
  try {
    await user.bind(dn, password);
    return dn;
  } catch (e) {
    if ((e as Error).name === "InvalidCredentialsError") return null;
    throw e;
  } finally {
    await user.unbind().catch(() => {});
  }
}

/** Every user and group the directory lists (for the sync). */
export async function ldapListAll(
  c: LdapConfig,
): Promise<{ users: DirectoryUser[]; groups: DirectoryGroup[] }> {
  return await withService(c, async (cl) => {
    const u = await cl.search(c.userBase, { scope: "sub", filter: c.userFilter, attributes: userAttrs(c) });
    const disabled = new Set<string>();
    if (c.disabledFilter) {
      const d = await cl.search(c.userBase, {
        scope: "sub",
        filter: and(c.userFilter, c.disabledFilter),
        attributes: ["dn"],
      });
      for (const e of d.searchEntries) disabled.add(e.dn.toLowerCase());
    }
    const users: DirectoryUser[] = [];
    for (const e of u.searchEntries) {
      const login = first(e[c.loginAttr]);
      if (login === null) continue;
      users.push({
        dn: e.dn,
        login,
        email: first(e.mail),
        fullName: first(e.cn),
        sshKeys: c.sshKeyAttr ? all(e[c.sshKeyAttr]) : [],
        disabled: disabled.has(e.dn.toLowerCase()),
      });
    }
    const groups: DirectoryGroup[] = [];
    if (c.groupBase) {
      const g = await cl.search(c.groupBase, {
        scope: "sub",
        filter: c.groupFilter,
        attributes: ["cn", c.memberAttr],
      });
      for (const e of g.searchEntries) {
        const name = first(e.cn);
        if (name === null) continue;
        groups.push({ dn: e.dn, name, memberDns: all(e[c.memberAttr]) });
      }
    }
    return { users, groups };
  });
}

/** The names (cn) of the groups under ldap_group_base that list this DN as a member. */
export async function ldapGroupNames(c: LdapConfig, dn: string): Promise<string[]> {
  if (!c.groupBase) return [];
  const base = c.groupBase;
  return await withService(c, async (cl) => {
    const r = await cl.search(base, {
      scope: "sub",
      filter: and(c.groupFilter, new EqualityFilter({ attribute: c.memberAttr, value: dn }).toString()),
      attributes: ["cn"],
    });
    return r.searchEntries.map((e) => first(e.cn)).filter((n): n is string => n !== null);
  });
}
