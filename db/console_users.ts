// console_users: who may log in to the web console, with which role, and the per-account lockout state.
import { DbError, describePgError, type Sql, withTx } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type Actor, changeEvent } from "./audit_events.ts";
import { NotFoundError } from "./errors.ts";

export type ConsoleRole = "admin" | "operator" | "auditor";
export const CONSOLE_ROLES: readonly ConsoleRole[] = ["admin", "operator", "auditor"];

export function isConsoleRole(v: string): v is ConsoleRole {
  return (CONSOLE_ROLES as readonly string[]).includes(v);
}

export interface ConsoleUser {
  id: number;
  name: string;
  role: ConsoleRole;
  active: boolean;
  failed_logins: number;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: Date;
  /** the password was set by someone else: the next login must choose a new one first */
  must_change_password: boolean;
  /** this account must log in with a second factor (and enrol one first), whatever console_mfa says */
  mfa_required: boolean;
  /** the account's TOTP factor (listConsoleUsers only): null, pending or active */
  totp?: "pending" | "active" | null;
  /** how many passkeys the account has (listConsoleUsers only) */
  passkeys?: number;
  /** how the account signs in (listConsoleUsers only): its own password, the directory, or single sign-on */
  sign_in?: "local" | "directory" | "sso";
}

export interface ConsoleUserWithHash extends ConsoleUser {
  password_hash: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Returns an error message for an invalid console user name, or null. */
export function consoleUserNameError(name: string): string | null {
  if (name === "") return "name is required";
  if (!NAME_RE.test(name)) {
    return "use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit";
  }
  return null;
}

export type { Actor } from "./audit_events.ts";

export async function createConsoleUser(
  sql: Sql,
  input: { name: string; role: ConsoleRole; passwordHash: string; mustChangePassword?: boolean },
  by: Actor,
): Promise<ConsoleUser> {
  const err = consoleUserNameError(input.name);
  if (err) throw new DbError("invalid", `console user name: ${err}`);
  if (!isConsoleRole(input.role)) {
    throw new DbError("invalid", `role must be one of ${CONSOLE_ROLES.join(", ")}`);
  }
  try {
    return await withTx(sql, async (tx) => {
      const [row] = await tx<ConsoleUser[]>`
        INSERT INTO console_users (name, role, password_hash, must_change_password)
        VALUES (${input.name}, ${input.role}, ${input.passwordHash}, ${input.mustChangePassword ?? false})
        RETURNING id, name, role, active, failed_logins, locked_until, last_login_at, created_at,
          must_change_password`;
      await writeAudit(tx, {
        actor: by.actor,
        action: "console.user_create",
        target: input.name,
        sourceIp: by.sourceIp,
        success: true,
        details: { role: input.role },
      });
      return row;
    });
  } catch (e) {
    const m = describePgError(e);
    if (m instanceof DbError && m.code === "conflict") {
      throw new DbError("conflict", `console user "${input.name}" already exists`);
    }
    throw m;
  }
}

export function listConsoleUsers(sql: Sql): Promise<ConsoleUser[]> {
  return sql<ConsoleUser[]>`
    SELECT id, name, role, active, failed_logins, locked_until, last_login_at, created_at, must_change_password,
      mfa_required,
      (SELECT CASE WHEN f.confirmed_at IS NULL THEN 'pending' ELSE 'active' END
         FROM totp_factors f WHERE f.console_user_id = console_users.id) AS totp,
      (SELECT count(*)::int FROM console_passkeys k WHERE k.console_user_id = console_users.id) AS passkeys,
      CASE WHEN oidc_subject IS NOT NULL THEN 'sso' WHEN directory_dn IS NOT NULL THEN 'directory' ELSE 'local' END
        AS sign_in
    FROM console_users ORDER BY name`;
}

/** Active console accounts with the admin role (none: nobody can log in to manage the console). */
export async function countActiveAdmins(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM console_users WHERE role = 'admin' AND active`;
  return n;
}

export async function findConsoleUserByName(sql: Sql, name: string): Promise<ConsoleUserWithHash | null> {
  const [row] = await sql<ConsoleUserWithHash[]>`
    SELECT id, name, role, active, failed_logins, locked_until, last_login_at, created_at,
      must_change_password, mfa_required, password_hash
    FROM console_users WHERE name = ${name}`;
  return row ?? null;
}

export async function findConsoleUserById(sql: Sql, id: number): Promise<ConsoleUserWithHash | null> {
  const [row] = await sql<ConsoleUserWithHash[]>`
    SELECT id, name, role, active, failed_logins, locked_until, last_login_at, created_at,
      must_change_password, mfa_required, password_hash
    FROM console_users WHERE id = ${id}`;
  return row ?? null;
}

/** Deletes a console user (and, by cascade, their console sessions). The last active admin stays. */
export async function deleteConsoleUser(sql: Sql, name: string, by: Actor): Promise<void> {
  await withTx(sql, async (tx) => {
    // serialise concurrent deletes so two admins cannot delete each other at once
    await tx`LOCK TABLE console_users IN SHARE ROW EXCLUSIVE MODE`;
    const [u] = await tx<{ id: number; role: ConsoleRole; active: boolean }[]>`
      SELECT id, role, active FROM console_users WHERE name = ${name}`;
    if (!u) throw new DbError("not_found", `no console user "${name}"`);
    if (u.role === "admin" && u.active) {
      const [{ n }] = await tx<{ n: number }[]>`
        SELECT count(*)::int AS n FROM console_users WHERE role = 'admin' AND active`;
      if (n <= 1) {
        throw new DbError("conflict", `"${name}" is the last active admin; add another admin first`);
      }
    }
    await tx`DELETE FROM console_users WHERE id = ${u.id}`;
    await writeAudit(tx, {
      actor: by.actor,
      action: "console.user_delete",
      target: name,
      sourceIp: by.sourceIp,
      success: true,
      details: { role: u.role },
    });
  });
}

/** Chosen console passwords; generated ones (randomPassword: 20 characters) always pass. */
export const CONSOLE_PASSWORD_MIN = 12;
export const CONSOLE_PASSWORD_MAX = 1024; // the login form refuses longer ones

/** Returns an error message for a password a console user chose, or null. */
export function consolePasswordError(password: string, name: string): string | null {
  if (password.length < CONSOLE_PASSWORD_MIN) return `use at least ${CONSOLE_PASSWORD_MIN} characters`;
  if (password.length > CONSOLE_PASSWORD_MAX) return `use at most ${CONSOLE_PASSWORD_MAX} characters`;
  if (password.trim() !== password) return "no spaces at the start or end";
  if (name !== "" && password.toLowerCase().includes(name.toLowerCase())) return "do not include your name";
  if (new Set(password).size < 5) return "use at least 5 different characters";
  return null;
}

/**
 * Replaces a console user's password hash, clears their lockout, and ends their console sessions except
 * `keepTokenHash` (the caller's own, for a change of one's own password). Audited as `action`; the
 * password itself is never written anywhere but as the hash. A reset (someone else chose the password)
 * makes the account change it at its next login; a change by the account itself clears that.
 */
export async function setConsolePassword(
  sql: Sql,
  name: string,
  passwordHash: string,
  by: Actor,
  opts: { action: "console.password_reset" | "console.password_change"; keepTokenHash?: string | null },
): Promise<{ userId: number; sessionsEnded: number }> {
  return await withTx(sql, async (tx) => {
    const [u] = await tx<{ id: number }[]>`
      UPDATE console_users SET password_hash = ${passwordHash}, failed_logins = 0, locked_until = NULL,
        must_change_password = ${opts.action === "console.password_reset"}
      WHERE name = ${name} RETURNING id`;
    if (!u) throw new DbError("not_found", `no console user "${name}"`);
    const ended = await tx`DELETE FROM console_sessions
      WHERE console_user_id = ${u.id} AND token_hash IS DISTINCT FROM ${opts.keepTokenHash ?? null}`;
    await writeAudit(tx, {
      actor: by.actor,
      action: opts.action,
      target: name,
      sourceIp: by.sourceIp,
      success: true,
      details: { sessions_ended: ended.count },
    });
    return { userId: u.id, sessionsEnded: ended.count };
  });
}

/** Lockout rule for one account: after `maxFailures` consecutive failures, locked for `lockMs`. */
export interface AccountLockRule {
  maxFailures: number;
  lockMs: number;
}

/**
 * Counts a failed password for an account. Returns the lock end when this failure locked it.
 * Runs as one UPDATE so concurrent failures cannot undercount.
 */
export async function recordAccountFailure(
  sql: Sql,
  userId: number,
  now: Date,
  rule: AccountLockRule,
): Promise<Date | null> {
  const lockUntil = new Date(now.getTime() + rule.lockMs);
  const [row] = await sql<{ locked_until: Date | null; just_locked: boolean }[]>`
    UPDATE console_users SET
      failed_logins = CASE WHEN failed_logins + 1 >= ${rule.maxFailures} THEN 0 ELSE failed_logins + 1 END,
      locked_until = CASE WHEN failed_logins + 1 >= ${rule.maxFailures} THEN ${lockUntil} ELSE locked_until END
    WHERE id = ${userId}
    RETURNING locked_until, (locked_until = ${lockUntil}) AS just_locked`;
  return row?.just_locked ? row.locked_until : null;
}

export async function recordAccountSuccess(sql: Sql, userId: number, now: Date): Promise<void> {
  await sql`UPDATE console_users SET failed_logins = 0, locked_until = NULL, last_login_at = ${now}
    WHERE id = ${userId}`;
}

/** A stronger hash of the same password after a correct login; only if the verified hash is still stored. */
export async function rehashConsolePassword(
  sql: Sql,
  id: number,
  verified: string,
  next: string,
): Promise<void> {
  await sql`UPDATE console_users SET password_hash = ${next} WHERE id = ${id} AND password_hash = ${verified}`;
}

/** Sets whether a console account must use a second factor. Audited. */
export async function setConsoleMfaRequired(
  sql: Sql,
  name: string,
  required: boolean,
  by: Actor,
): Promise<void> {
  await sql.begin(async (tx) => {
    const r = await tx`UPDATE console_users SET mfa_required = ${required} WHERE name = ${name} RETURNING id`;
    if (r.length === 0) throw new NotFoundError("console user", name);
    await writeAudit(tx, changeEvent(by, "mfa.required_set", name, { owner: "console", required }));
  });
}
