// One directory sync: list users and groups over LDAP, then apply them to the database (db/directory.ts).
// Used by `jumphost directory sync` and by serve's schedule (every ldap_sync_minutes).
import type { LdapConfig } from "../core/ldap/config.ts";
import { ldapListAll } from "../core/ldap/client.ts";
import type { Sql } from "../db/client.ts";
import type { ActorRef } from "../db/audit_events.ts";
import { applyDirectorySync } from "../db/directory.ts";

export async function syncDirectory(
  sql: Sql,
  ldap: LdapConfig,
  actor: ActorRef,
  dryRun = false,
): Promise<string[]> {
  const listing = await ldapListAll(ldap);
  return await applyDirectorySync(sql, listing, actor, dryRun);
}
