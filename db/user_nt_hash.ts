// The NT hash of a jump user's password, for the RDP proxy's NTLM check (NLA at the jump). Sealed at rest
// with the appliance secret (db/secret_box.ts), written by db/users.ts whenever a password is set.
import type { Sql } from "./client.ts";
import { open, SecretBoxError, type SecretKey } from "../core/secret_box.ts";
import { ntHashPurpose } from "./users.ts";
import { NT_HASH_BYTES } from "../policy/nt_hash.ts";

export type NtHashMissing =
  /** no such jump user */
  | "no_user"
  | "user_inactive"
  /** the user has no password (SSH keys only) */
  | "no_password"
  /** the password was set before NLA support: the user must change it once */
  | "set_before_nla"
  /** sealed with a key that is not loaded, or altered: the admin must look (the user can re-set it) */
  | "unreadable";

export type NtHashLookup =
  | { ok: true; userId: number; userName: string; ntHash: Uint8Array }
  | { ok: false; reason: NtHashMissing; detail: string; userId?: number; userName?: string };

const DETAIL: Record<Exclude<NtHashMissing, "unreadable">, (n: string) => string> = {
  no_user: (n) => `no jump user named ${JSON.stringify(n)}`,
  user_inactive: (n) => `user ${n} is disabled`,
  no_password: (n) => `user ${n} has no password; NLA needs one`,
  set_before_nla: (n) => `user ${n}'s password was set before NLA support: change your password to use NLA`,
};

/** The user's NT hash, or why there is none. `user` is a name or an id; names match exactly. */
export async function ntHashFor(
  sql: Sql,
  keys: SecretKey | readonly SecretKey[],
  user: string | number,
): Promise<NtHashLookup> {
  const rows = await sql<
    { id: number; name: string; active: boolean; has_password: boolean; nt_hash_sealed: string | null }[]
  >`SELECT id, name, active, password_hash IS NOT NULL AS has_password, nt_hash_sealed FROM users
    WHERE ${typeof user === "number" ? sql`id = ${user}` : sql`name = ${user}`}`;
  const u = rows[0];
  if (!u) return { ok: false, reason: "no_user", detail: DETAIL.no_user(String(user)) };
  const who = { userId: u.id, userName: u.name };
  const missing = (reason: Exclude<NtHashMissing, "unreadable">): NtHashLookup => ({
    ok: false,
    reason,
    detail: DETAIL[reason](u.name),
    ...who,
  });
  if (!u.active) return missing("user_inactive");
  if (!u.has_password) return missing("no_password");
  if (u.nt_hash_sealed === null) return missing("set_before_nla");
  try {
    const ntHash = open(keys, u.nt_hash_sealed, ntHashPurpose(u.id));
    if (ntHash.length !== NT_HASH_BYTES) {
      throw new SecretBoxError("malformed", "NT hash has the wrong length");
    }
    return { ok: true, ...who, ntHash };
  } catch (e) {
    if (!(e instanceof SecretBoxError)) throw e;
    return { ok: false, reason: "unreadable", detail: `user ${u.name}'s NT hash: ${e.message}`, ...who };
  }
}
