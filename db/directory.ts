// Directory (LDAP) sync, the database side: directory users become jumphost users marked with their DN,
// directory groups user groups, sshPublicKey values directory keys (replaced at every sync). Source CIDRs,
// local keys and policies stay jumphost's own. A directory user who is gone or disabled is disabled here
// (user.disable, which the proxies act on through policy_changed: live sessions are revoked).
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";
import { parseSshPublicKey } from "../policy/ssh_key.ts";

export interface SyncUser {
  dn: string;
  login: string;
  email: string | null;
  fullName: string | null;
  sshKeys: string[];
  disabled: boolean;
}

export interface SyncGroup {
  dn: string;
  name: string;
  memberDns: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** One line per change (what `jumphost directory sync` prints); in a dry run nothing is written. */
export async function applyDirectorySync(
  sql: Sql,
  listing: { users: SyncUser[]; groups: SyncGroup[] },
  actor: ActorRef,
  dryRun: boolean,
): Promise<string[]> {
  const changes: string[] = [];
  const run = async (tx: TxSql) => {
    const byDn = new Map<string, number>(); // lower-cased DN → user id
    const seen = new Set<string>();
    for (const u of listing.users) {
      const dnKey = u.dn.toLowerCase();
      seen.add(dnKey);
      if (!NAME.test(u.login)) {
        changes.push(`skip ${u.dn}: "${u.login}" is not a valid user name`);
        continue;
      }
      const [row] = await tx<{ id: number; name: string; active: boolean; directory_dn: string | null }[]>`
        SELECT id, name, active, directory_dn FROM users
        WHERE lower(directory_dn) = ${dnKey} OR (directory_dn IS NULL AND name = ${u.login})
        ORDER BY (directory_dn IS NULL) LIMIT 1`;
      if (row && row.directory_dn === null) {
        changes.push(`skip ${u.login}: a local user of that name exists (not directory-managed)`);
        continue;
      }
      const email = u.email && EMAIL.test(u.email) ? u.email : null;
      let id: number;
      if (!row) {
        changes.push(`create user ${u.login}${u.disabled ? " (disabled)" : ""}`);
        if (dryRun) continue;
        [{ id }] = await tx<{ id: number }[]>`
          INSERT INTO users (name, email, full_name, active, directory_dn)
          VALUES (${u.login}, ${email}, ${u.fullName}, ${!u.disabled}, ${u.dn}) RETURNING id`;
        await writeAudit(tx, changeEvent(actor, "user.create", u.login, { directory_dn: u.dn }));
      } else {
        id = row.id;
        await tx`UPDATE users SET email = ${email}, full_name = ${u.fullName}, directory_dn = ${u.dn}
                 WHERE id = ${id}`;
        if (row.active === u.disabled) {
          changes.push(`${u.disabled ? "disable" : "enable"} user ${row.name}`);
          if (!dryRun) await setActive(tx, id, row.name, !u.disabled, actor, "directory");
        }
      }
      byDn.set(dnKey, id);
      if (!dryRun) await replaceKeys(tx, id, u.login, u.sshKeys, actor, changes);
    }
    const gone = await tx<{ id: number; name: string; directory_dn: string }[]>`
      SELECT id, name, directory_dn FROM users WHERE directory_dn IS NOT NULL AND active`;
    for (const g of gone) {
      if (seen.has(g.directory_dn.toLowerCase())) continue;
      changes.push(`disable user ${g.name} (gone from the directory)`);
      if (!dryRun) await setActive(tx, g.id, g.name, false, actor, "directory_removed");
    }
    for (const g of listing.groups) {
      if (!NAME.test(g.name)) {
        changes.push(`skip group ${g.dn}: "${g.name}" is not a valid group name`);
        continue;
      }
      const [row] = await tx<{ id: number; directory_dn: string | null }[]>`
        SELECT id, directory_dn FROM user_groups WHERE lower(directory_dn) = ${g.dn.toLowerCase()}
          OR (directory_dn IS NULL AND name = ${g.name}) ORDER BY (directory_dn IS NULL) LIMIT 1`;
      if (row && row.directory_dn === null) {
        changes.push(`skip group ${g.name}: a local user group of that name exists`);
        continue;
      }
      let gid: number;
      if (!row) {
        changes.push(`create user group ${g.name}`);
        if (dryRun) continue;
        [{ id: gid }] = await tx<{ id: number }[]>`
          INSERT INTO user_groups (name, description, directory_dn)
          VALUES (${g.name}, ${"from the directory"}, ${g.dn}) RETURNING id`;
        await writeAudit(tx, changeEvent(actor, "usergroup.create", g.name, { directory_dn: g.dn }));
      } else gid = row.id;
      const want = new Set(
        g.memberDns.map((d) => byDn.get(d.toLowerCase())).filter((x): x is number => x !== undefined),
      );
      const have = await tx<{ user_id: number; name: string }[]>`
        SELECT m.user_id, u.name FROM user_group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = ${gid}`;
      for (const h of have) {
        if (want.has(h.user_id)) want.delete(h.user_id);
        else {
          changes.push(`remove ${h.name} from ${g.name}`);
          await tx`DELETE FROM user_group_members WHERE group_id = ${gid} AND user_id = ${h.user_id}`;
          await writeAudit(tx, changeEvent(actor, "usergroup.member_remove", g.name, { member: h.name }));
        }
      }
      for (const uid of want) {
        const [{ name }] = await tx<{ name: string }[]>`SELECT name FROM users WHERE id = ${uid}`;
        changes.push(`add ${name} to ${g.name}`);
        await tx`INSERT INTO user_group_members (group_id, user_id) VALUES (${gid}, ${uid})`;
        await writeAudit(tx, changeEvent(actor, "usergroup.member_add", g.name, { member: name }));
      }
    }
    if (dryRun) throw new DryRun();
  };
  try {
    await sql.begin(run);
  } catch (e) {
    if (!(e instanceof DryRun)) throw e;
  }
  return changes;
}

class DryRun extends Error {}

async function setActive(tx: TxSql, id: number, name: string, active: boolean, actor: ActorRef, why: string) {
  await tx`UPDATE users SET active = ${active}, updated_at = now() WHERE id = ${id}`;
  await writeAudit(tx, changeEvent(actor, active ? "user.enable" : "user.disable", name, { reason: why }));
}

async function replaceKeys(
  tx: TxSql,
  userId: number,
  login: string,
  lines: string[],
  actor: ActorRef,
  changes: string[],
) {
  const want = new Map<string, ReturnType<typeof parseSshPublicKey>>();
  for (const l of lines) {
    try {
      const k = parseSshPublicKey(l);
      want.set(k.fingerprint, k);
    } catch (e) {
      changes.push(`skip a key of ${login}: ${(e as Error).message}`);
    }
  }
  const have = await tx<{ fingerprint: string; from_directory: boolean }[]>`
    SELECT fingerprint, from_directory FROM user_ssh_keys WHERE user_id = ${userId}`;
  const diff: string[] = [];
  for (const h of have) {
    if (want.has(h.fingerprint)) want.delete(h.fingerprint);
    else if (h.from_directory) {
      await tx`DELETE FROM user_ssh_keys WHERE user_id = ${userId} AND fingerprint = ${h.fingerprint}`;
      diff.push(`-key ${h.fingerprint}`);
    }
  }
  for (const k of want.values()) {
    await tx`INSERT INTO user_ssh_keys (user_id, public_key, key_type, fingerprint, comment, from_directory)
             VALUES (${userId}, ${k.line}, ${k.type}, ${k.fingerprint}, ${k.comment}, true)`;
    diff.push(`+key ${k.fingerprint}`);
  }
  if (diff.length) {
    changes.push(`${login}: ${diff.join(" ")}`);
    await writeAudit(tx, changeEvent(actor, "user.update", login, { changed: diff, by: "directory" }));
  }
}

/** The DN of a directory-managed user (null for a local one). */
export async function userDirectoryDn(sql: Sql, userId: number): Promise<string | null> {
  const [r] = await sql<
    { directory_dn: string | null }[]
  >`SELECT directory_dn FROM users WHERE id = ${userId}`;
  return r?.directory_dn ?? null;
}
