// server_credentials: the Windows logins (and their passwords, sealed with the appliance secret) the RDP
// proxy may inject toward a server. Passwords are never returned to the CLI or the console; only
// credentialsFor() opens them, for the proxy, which audits each use (rdp.credential_used).
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { actorName, type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import { getServer } from "./servers.ts";
import { openText, sealText, SecretBoxError, type SecretKey } from "../core/secret_box.ts";
import {
  canonicalWindowsLogin,
  parseWindowsLogin,
  tryParseWindowsLogin,
  type WindowsLogin,
  WindowsLoginError,
} from "../policy/windows_login.ts";

export interface ServerCredentialRow {
  login: string;
  set_by: string;
  set_at: Date;
}

export interface VaultCredential {
  login: string;
  password: string;
}

/** A vaulted password opens only for its server and login (canonical spelling). */
function purpose(serverId: number, login: WindowsLogin): string {
  return `server_credential:${serverId}:${canonicalWindowsLogin(login)}`;
}

function checkLogin(text: string): WindowsLogin {
  try {
    return parseWindowsLogin(text.trim());
  } catch (e) {
    if (e instanceof WindowsLoginError) throw new InputError("login", e.message);
    throw e;
  }
}

/** The same account however it is spelled: "CORP\svc" = "corp\SVC" = "svc@corp". */
function sameAccount(a: WindowsLogin, b: WindowsLogin): boolean {
  return canonicalWindowsLogin(a) === canonicalWindowsLogin(b);
}

/** Adds or replaces the credential for `login` on server `serverName`. Returns whether it replaced one. */
export async function setServerCredential(
  sql: Sql,
  key: SecretKey,
  serverName: string,
  loginText: string,
  password: string,
  by: ActorRef,
): Promise<{ replaced: boolean }> {
  const login = checkLogin(loginText);
  if (password.length === 0) throw new InputError("password", "empty password");
  if (password.length > 512) throw new InputError("password", "password longer than 512 characters");
  return await sql.begin(async (tx) => {
    const s = await getServer(tx, serverName);
    // one writer per server at a time: two spellings of one account must not both be inserted
    await tx`SELECT 1 FROM servers WHERE id = ${s.id} FOR UPDATE`;
    const existing = await tx<{ id: number; login: string }[]>`
      SELECT id, login FROM server_credentials WHERE server_id = ${s.id}`;
    const same = existing.filter((r) => {
      const l = tryParseWindowsLogin(r.login);
      return l !== null && sameAccount(l, login);
    });
    if (same.length) await tx`DELETE FROM server_credentials WHERE id IN ${tx(same.map((r) => r.id))}`;
    const text = login.form === "downlevel" ? `${login.domain}\\${login.user}` : loginText.trim();
    await tx`INSERT INTO server_credentials (server_id, login, password_sealed, set_by)
      VALUES (${s.id}, ${text}, ${sealText(key, password, purpose(s.id, login))}, ${actorName(by)})`;
    // never the password, not even its length
    await writeAudit(
      tx,
      changeEvent(by, "server.credential_set", s.name, { login: text, replaced: same.length > 0 }),
    );
    return { replaced: same.length > 0 };
  }) as { replaced: boolean };
}

export async function removeServerCredential(
  sql: Sql,
  serverName: string,
  loginText: string,
  by: ActorRef,
): Promise<void> {
  const login = checkLogin(loginText);
  await sql.begin(async (tx) => {
    const s = await getServer(tx, serverName);
    const rows = await tx<{ id: number; login: string }[]>`
      SELECT id, login FROM server_credentials WHERE server_id = ${s.id}`;
    const hit = rows.filter((r) => {
      const l = tryParseWindowsLogin(r.login);
      return l !== null && sameAccount(l, login);
    });
    if (hit.length === 0) throw new NotFoundError(`credential on server ${s.name} for login`, loginText);
    await tx`DELETE FROM server_credentials WHERE id IN ${tx(hit.map((r) => r.id))}`;
    await writeAudit(tx, changeEvent(by, "server.credential_removed", s.name, { login: hit[0].login }));
  });
}

/** The logins vaulted for a server and when they were set: never a password. */
export async function listServerCredentials(sql: Sql, serverName: string): Promise<ServerCredentialRow[]> {
  const s = await getServer(sql, serverName);
  return await sql<ServerCredentialRow[]>`
    SELECT login, set_by, set_at FROM server_credentials WHERE server_id = ${s.id} ORDER BY lower(login)`;
}

export type CredentialLookup =
  | { ok: true; credentials: VaultCredential[] }
  | { ok: false; reason: "unreadable"; detail: string };

/**
 * For the RDP proxy: the decrypted credentials of server `serverId`, all of them or those for `login`
 * (compared as Windows does: "CORP\svc" finds "corp\SVC"; a domain-less login finds that account in any
 * domain). Which of them the user's grant allows is the caller's decision (policy/windows_login.ts), and so
 * is auditing the use (rdp.credential_used). A value that does not open (another appliance key, tampering)
 * is reported, not skipped.
 */
export async function credentialsFor(
  sql: Sql,
  keys: SecretKey | readonly SecretKey[],
  serverId: number,
  login?: string,
): Promise<CredentialLookup> {
  const want = login === undefined ? null : tryParseWindowsLogin(login);
  if (login !== undefined && want === null) return { ok: true, credentials: [] };
  const rows = await sql<{ login: string; password_sealed: string }[]>`
    SELECT login, password_sealed FROM server_credentials WHERE server_id = ${serverId} ORDER BY lower(login)`;
  const out: VaultCredential[] = [];
  for (const r of rows) {
    const l = tryParseWindowsLogin(r.login);
    if (!l) continue; // the column's CHECK is looser than the parser; such a row was never written by us
    if (
      want &&
      !(want.domain === null ? want.user.toUpperCase() === l.user.toUpperCase() : sameAccount(want, l))
    ) {
      continue;
    }
    try {
      out.push({ login: r.login, password: openText(keys, r.password_sealed, purpose(serverId, l)) });
    } catch (e) {
      if (!(e instanceof SecretBoxError)) throw e;
      return { ok: false, reason: "unreadable", detail: `credential ${r.login}: ${e.message}` };
    }
  }
  return { ok: true, credentials: out };
}
