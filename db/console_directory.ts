// Console accounts that a directory (LDAP) login makes: named as the directory login, marked with its DN,
// their role set from the directory's groups at every login; they have no local password.
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { changeEvent } from "./audit_events.ts";

/** never a valid scrypt hash: a directory account cannot log in with a local password */
const NO_LOCAL_PASSWORD = "!directory";

export async function isDirectoryConsoleUser(sql: Sql, id: number): Promise<boolean> {
  const [r] = await sql<
    { d: boolean }[]
  >`SELECT directory_dn IS NOT NULL AS d FROM console_users WHERE id = ${id}`;
  return r?.d ?? false;
}

/** Creates the account at its first login, or brings its role in line with the directory. */
export async function upsertDirectoryConsoleUser(
  sql: Sql,
  name: string,
  dn: string,
  role: string,
  actor: string,
): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ id: number; role: string; directory_dn: string | null }[]>`
      SELECT id, role, directory_dn FROM console_users WHERE name = ${name} FOR UPDATE`;
    if (!row) {
      await tx`INSERT INTO console_users (name, password_hash, role, directory_dn)
               VALUES (${name}, ${NO_LOCAL_PASSWORD}, ${role}, ${dn})`;
      await writeAudit(tx, changeEvent(actor, "console.user_create", name, { role, directory_dn: dn }));
    } else if (row.directory_dn !== null && row.role !== role) {
      await tx`UPDATE console_users SET role = ${role}, directory_dn = ${dn} WHERE id = ${row.id}`;
      await writeAudit(tx, changeEvent(actor, "console.user_role", name, { role, directory_dn: dn }));
    }
  });
}
