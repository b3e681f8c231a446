// Console accounts that a single sign-on (OpenID Connect) login makes: found by the provider's issuer and the
// user's subject there, named at their first login, their role set from the groups claim at every login;
// they have no local password. Every change writes its audit row in the same transaction, last.
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { changeEvent } from "./audit_events.ts";
import type { ConsoleRole } from "./console_users.ts";

/** never a valid scrypt hash: an SSO account cannot log in with a local password */
const NO_LOCAL_PASSWORD = "!oidc";

export interface SsoIdentity {
  issuer: string;
  subject: string;
  /** the name the account gets at its first login */
  name: string;
}

export type SsoAccount =
  | {
    ok: true;
    id: number;
    name: string;
    role: ConsoleRole;
    created: boolean;
    previousRole: ConsoleRole | null;
  }
  /** name_taken: a console account of that name exists that is not this SSO identity (never taken over) */
  | { ok: false; reason: "name_taken" | "disabled"; name: string };

/**
 * Creates the SSO account at its first login, or brings its role in line with the groups claim. An account
 * an admin disabled stays disabled (and is refused).
 */
export async function upsertSsoConsoleUser(
  sql: Sql,
  who: SsoIdentity,
  role: ConsoleRole,
  actor: string,
): Promise<SsoAccount> {
  return await sql.begin(async (tx) => {
    const [row] = await tx<{ id: number; name: string; role: ConsoleRole; active: boolean }[]>`
      SELECT id, name, role, active FROM console_users
      WHERE oidc_issuer = ${who.issuer} AND oidc_subject = ${who.subject} FOR UPDATE`;
    if (!row) {
      const [taken] = await tx`SELECT 1 FROM console_users WHERE name = ${who.name}`;
      if (taken) return { ok: false as const, reason: "name_taken" as const, name: who.name };
      const [made] = await tx<{ id: number }[]>`
        INSERT INTO console_users (name, password_hash, role, oidc_issuer, oidc_subject)
        VALUES (${who.name}, ${NO_LOCAL_PASSWORD}, ${role}, ${who.issuer}, ${who.subject})
        RETURNING id`;
      await writeAudit(
        tx,
        changeEvent(actor, "console.user_create", who.name, {
          role,
          sso: { issuer: who.issuer, subject: who.subject },
        }),
      );
      return { ok: true as const, id: made.id, name: who.name, role, created: true, previousRole: null };
    }
    if (!row.active) return { ok: false as const, reason: "disabled" as const, name: row.name };
    if (row.role !== role) {
      await tx`UPDATE console_users SET role = ${role} WHERE id = ${row.id}`;
      await writeAudit(
        tx,
        changeEvent(actor, "console.user_role", row.name, { from: row.role, role, sso: true }),
      );
    }
    return {
      ok: true as const,
      id: row.id,
      name: row.name,
      role,
      created: false,
      previousRole: row.role === role ? null : row.role,
    };
  });
}

/**
 * The SSO user is in no mapped group any more: every console session of the account ends now (the account
 * stays, with no way in until the provider maps it again). Returns its name and how many sessions ended,
 * or null when the identity has no account.
 */
export async function revokeSsoConsoleUser(
  sql: Sql,
  issuer: string,
  subject: string,
  actor: string,
): Promise<{ name: string; sessionsEnded: number } | null> {
  return await sql.begin(async (tx) => {
    const [row] = await tx<{ id: number; name: string; role: ConsoleRole }[]>`
      SELECT id, name, role FROM console_users
      WHERE oidc_issuer = ${issuer} AND oidc_subject = ${subject} FOR UPDATE`;
    if (!row) return null;
    const ended = await tx`DELETE FROM console_sessions WHERE console_user_id = ${row.id}`;
    await writeAudit(
      tx,
      changeEvent(actor, "console.user_role", row.name, {
        from: row.role,
        role: null,
        sso: true,
        sessions_ended: ended.count,
      }),
    );
    return { name: row.name, sessionsEnded: ended.count };
  });
}

export async function isSsoConsoleUser(sql: Sql, id: number): Promise<boolean> {
  const [r] = await sql<
    { s: boolean }[]
  >`SELECT oidc_subject IS NOT NULL AS s FROM console_users WHERE id = ${id}`;
  return r?.s ?? false;
}
