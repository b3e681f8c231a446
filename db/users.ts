// users, their source IPs/CIDRs and SSH keys. Every change writes an audit row in the same transaction.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, type AuditAction, changeEvent } from "./audit_events.ts";
import { checkName, InputError, NotFoundError } from "./errors.ts";
import { normalizeCidr } from "../policy/cidr.ts";
import { parseSshPublicKey } from "../policy/ssh_key.ts";
import { hashPassword } from "../policy/password.ts";
import { ntHash } from "../policy/nt_hash.ts";
import { seal, type SecretKey } from "../core/secret_box.ts";

export interface SourceIpRow {
  cidr: string;
  shared: boolean;
}

export interface SshKeyRow {
  id: number;
  key_type: string;
  fingerprint: string;
  comment: string | null;
  public_key: string;
}

export interface UserRow {
  id: number;
  name: string;
  email: string | null;
  full_name: string | null;
  active: boolean;
  has_password: boolean;
  created_at: Date;
  updated_at: Date;
  source_ips: SourceIpRow[];
  ssh_keys: SshKeyRow[];
  groups: string[];
  /** this user must answer a second factor at the SSH prompt (and be enrolled to get in at all) */
  mfa_required: boolean;
  /** the user's TOTP factor: null (none), pending (enrolled, not yet used) or active */
  totp: "pending" | "active" | null;
}

export interface UserInput {
  name: string;
  email?: string | null;
  fullName?: string | null;
  password?: string | null;
  sourceIps?: { cidr: string; shared?: boolean }[];
  sshKeys?: string[];
}

/** What a password change needs besides the database: the appliance key seals the NT hash for NLA. */
export interface PasswordSealing {
  secretKey?: SecretKey;
}

/** The additional data an NT hash is sealed with: it opens for this user's row only. */
export function ntHashPurpose(userId: number): string {
  return `nt_hash:user:${userId}`;
}

function sealedNtHash(opts: PasswordSealing, userId: number, password: string): string {
  // every place that sets a password must pass the key: a missing NT hash would lock the user out of NLA
  if (!opts.secretKey) throw new Error("setting a password needs the appliance key (NT hash for NLA)");
  return seal(opts.secretKey, ntHash(password), ntHashPurpose(userId));
}

export interface UserPatch {
  email?: string | null;
  fullName?: string | null;
  /** null removes the password */
  password?: string | null;
  active?: boolean;
  addSourceIps?: { cidr: string; shared?: boolean }[];
  removeSourceIps?: string[];
  addSshKeys?: string[];
  /** by fingerprint */
  removeSshKeys?: string[];
  mfaRequired?: boolean;
}

const SELECT_USER = (sql: Sql | TxSql) =>
  sql`
  SELECT u.id, u.name, u.email, u.full_name, u.active, (u.password_hash IS NOT NULL) AS has_password,
         u.created_at, u.updated_at, u.mfa_required,
         (SELECT CASE WHEN f.confirmed_at IS NULL THEN 'pending' ELSE 'active' END
            FROM totp_factors f WHERE f.user_id = u.id) AS totp,
         COALESCE((SELECT json_agg(json_build_object('cidr', s.cidr::text, 'shared', s.shared) ORDER BY s.cidr)
                   FROM user_source_ips s WHERE s.user_id = u.id), '[]') AS source_ips,
         COALESCE((SELECT json_agg(json_build_object('id', k.id, 'key_type', k.key_type, 'fingerprint', k.fingerprint,
                                                     'comment', k.comment, 'public_key', k.public_key) ORDER BY k.id)
                   FROM user_ssh_keys k WHERE k.user_id = u.id), '[]') AS ssh_keys,
         COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM user_group_members m
                   JOIN user_groups g ON g.id = m.group_id WHERE m.user_id = u.id), '{}') AS groups
  FROM users u`;

export async function listUsers(
  sql: Sql,
  opts: { search?: string; limit?: number } = {},
): Promise<UserRow[]> {
  const like = opts.search ? `%${opts.search.replace(/[\\%_]/g, (c) => "\\" + c)}%` : null;
  return await sql<UserRow[]>`${SELECT_USER(sql)}
    ${like ? sql`WHERE u.name ILIKE ${like} OR u.email ILIKE ${like} OR u.full_name ILIKE ${like}` : sql``}
    ORDER BY u.name LIMIT ${opts.limit ?? 10_000}`;
}

export async function findUser(sql: Sql | TxSql, name: string): Promise<UserRow | null> {
  const rows = await sql<UserRow[]>`${SELECT_USER(sql)} WHERE u.name = ${name}`;
  return rows[0] ?? null;
}

export async function getUser(sql: Sql | TxSql, name: string): Promise<UserRow> {
  const u = await findUser(sql, name);
  if (!u) throw new NotFoundError("user", name);
  return u;
}

function checkEmail(email: string | null | undefined): string | null {
  if (email === undefined || email === null || email.trim() === "") return null;
  if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) throw new InputError("email", `email "${email}" is not valid`);
  return email.trim();
}

function cidrOf(text: string): string {
  try {
    return normalizeCidr(text.trim(), { strict: true });
  } catch (e) {
    throw new InputError("source_ip", `source IP "${text}": ${(e as Error).message}`);
  }
}

async function addSourceIps(tx: TxSql, userId: number, ips: { cidr: string; shared?: boolean }[]) {
  for (const ip of ips) {
    const cidr = cidrOf(ip.cidr);
    const taken = await tx<{ name: string; shared: boolean }[]>`
      SELECT u.name, s.shared FROM user_source_ips s JOIN users u ON u.id = s.user_id
      WHERE s.cidr = ${cidr}::cidr AND s.user_id <> ${userId}`;
    if (taken.length > 0 && (!ip.shared || taken.some((t) => !t.shared))) {
      throw new InputError(
        "source_ip",
        `source IP ${cidr} already belongs to user ${taken[0].name} (mark both as shared to allow this)`,
      );
    }
    await tx`INSERT INTO user_source_ips (user_id, cidr, shared) VALUES (${userId}, ${cidr}::cidr, ${!!ip
      .shared})
             ON CONFLICT (user_id, cidr) DO UPDATE SET shared = EXCLUDED.shared`;
  }
}

async function addKeys(tx: TxSql, userId: number, keys: string[]) {
  for (const text of keys) {
    let k;
    try {
      k = parseSshPublicKey(text);
    } catch (e) {
      throw new InputError("ssh_key", (e as Error).message);
    }
    const dup =
      await tx`SELECT 1 FROM user_ssh_keys WHERE user_id = ${userId} AND fingerprint = ${k.fingerprint}`;
    if (dup.length) throw new InputError("ssh_key", `SSH key ${k.fingerprint} is already registered`);
    await tx`INSERT INTO user_ssh_keys (user_id, public_key, key_type, fingerprint, comment)
             VALUES (${userId}, ${k.line}, ${k.type}, ${k.fingerprint}, ${k.comment})`;
  }
}

export async function createUser(
  sql: Sql,
  input: UserInput,
  actor: ActorRef,
  opts: PasswordSealing = {},
): Promise<UserRow> {
  const name = checkName("name", input.name);
  const email = checkEmail(input.email);
  const hash = input.password ? await hashPassword(input.password) : null;
  return await sql.begin(async (tx) => {
    const exists = await tx`SELECT 1 FROM users WHERE name = ${name}`;
    if (exists.length) throw new InputError("name", `user "${name}" already exists`);
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO users (name, email, full_name, password_hash)
      VALUES (${name}, ${email}, ${input.fullName?.trim() || null}, ${hash}) RETURNING id`;
    if (input.password) {
      await tx`UPDATE users SET nt_hash_sealed = ${sealedNtHash(opts, id, input.password)} WHERE id = ${id}`;
    }
    await addSourceIps(tx, id, input.sourceIps ?? []);
    await addKeys(tx, id, input.sshKeys ?? []);
    const user = await getUser(tx, name);
    await writeAudit(
      tx,
      changeEvent(actor, "user.create", name, {
        source_ips: user.source_ips.map((s) => s.cidr),
        ssh_keys: user.ssh_keys.map((k) => k.fingerprint),
        password: hash !== null,
      }),
    );
    return user;
  }) as UserRow;
}

export async function updateUser(
  sql: Sql,
  name: string,
  patch: UserPatch,
  actor: ActorRef,
  opts: PasswordSealing = {},
): Promise<UserRow> {
  const hash = patch.password ? await hashPassword(patch.password) : patch.password;
  return await sql.begin(async (tx) => {
    const user = await getUser(tx, name);
    const changed: string[] = [];
    if (patch.email !== undefined) {
      await tx`UPDATE users SET email = ${checkEmail(patch.email)} WHERE id = ${user.id}`;
      changed.push("email");
    }
    if (patch.fullName !== undefined) {
      await tx`UPDATE users SET full_name = ${patch.fullName?.trim() || null} WHERE id = ${user.id}`;
      changed.push("full_name");
    }
    if (hash !== undefined) {
      const nt = patch.password ? sealedNtHash(opts, user.id, patch.password) : null;
      await tx`UPDATE users SET password_hash = ${hash}, nt_hash_sealed = ${nt} WHERE id = ${user.id}`;
      changed.push(hash === null ? "password_removed" : "password");
    }
    if (patch.active !== undefined) {
      await tx`UPDATE users SET active = ${patch.active} WHERE id = ${user.id}`;
      changed.push(patch.active ? "enabled" : "disabled");
    }
    if (patch.mfaRequired !== undefined) {
      await tx`UPDATE users SET mfa_required = ${patch.mfaRequired} WHERE id = ${user.id}`;
      changed.push(patch.mfaRequired ? "mfa_required" : "mfa_optional");
    }
    for (const c of patch.removeSourceIps ?? []) {
      const cidr = cidrOf(c);
      const r = await tx`DELETE FROM user_source_ips WHERE user_id = ${user.id} AND cidr = ${cidr}::cidr`;
      if (r.count === 0) throw new InputError("source_ip", `user ${name} has no source IP ${cidr}`);
      changed.push(`-ip ${cidr}`);
    }
    if (patch.addSourceIps?.length) {
      await addSourceIps(tx, user.id, patch.addSourceIps);
      changed.push(...patch.addSourceIps.map((s) => `+ip ${s.cidr}`));
    }
    for (const fp of patch.removeSshKeys ?? []) {
      const r = await tx`DELETE FROM user_ssh_keys WHERE user_id = ${user.id} AND fingerprint = ${fp}`;
      if (r.count === 0) throw new InputError("ssh_key", `user ${name} has no SSH key ${fp}`);
      changed.push(`-key ${fp}`);
    }
    if (patch.addSshKeys?.length) {
      await addKeys(tx, user.id, patch.addSshKeys);
      changed.push("+key");
    }
    await tx`UPDATE users SET updated_at = now() WHERE id = ${user.id}`;
    const action: AuditAction = patch.active === false
      ? "user.disable"
      : patch.active === true
      ? "user.enable"
      : "user.update";
    await writeAudit(tx, changeEvent(actor, action, name, { changed }));
    return await getUser(tx, name);
  }) as UserRow;
}

export async function deleteUser(sql: Sql, name: string, actor: ActorRef): Promise<void> {
  await sql.begin(async (tx) => {
    const user = await getUser(tx, name);
    await tx`DELETE FROM users WHERE id = ${user.id}`;
    await writeAudit(tx, changeEvent(actor, "user.delete", name, { id: user.id }));
  });
}

/** What the SSH proxy needs to authenticate a user at the jump. */
export async function userCredentials(
  sql: Sql,
  userId: number,
): Promise<
  {
    passwordHash: string | null;
    /** set for a directory-managed user: the password is checked by an LDAP bind */
    directoryDn: string | null;
    keys: { type: string; publicKey: string; fingerprint: string }[];
  }
> {
  const [u] = await sql<
    { password_hash: string | null; directory_dn: string | null }[]
  >`SELECT password_hash, directory_dn FROM users WHERE id = ${userId}`;
  const keys = await sql<{ key_type: string; public_key: string; fingerprint: string }[]>`
    SELECT key_type, public_key, fingerprint FROM user_ssh_keys WHERE user_id = ${userId} ORDER BY id`;
  return {
    passwordHash: u?.password_hash ?? null,
    directoryDn: u?.directory_dn ?? null,
    keys: keys.map((k) => ({ type: k.key_type, publicKey: k.public_key, fingerprint: k.fingerprint })),
  };
}

/**
 * Stores a stronger hash of the same password after a correct login (the cost was raised). Only when the
 * hash is still the one verified, so a password changed meanwhile is not overwritten; not audited (nothing
 * the user or an admin chose changed).
 */
export async function rehashUserPassword(
  sql: Sql,
  userId: number,
  verified: string,
  next: string,
): Promise<void> {
  await sql`UPDATE users SET password_hash = ${next} WHERE id = ${userId} AND password_hash = ${verified}`;
}
