// One directory sync: list users and groups over LDAP, then apply them to the database (db/directory.ts).
// Used by `jumphost directory sync` and by serve's schedule (every ldap_sync_minutes).
import type { LdapConfig } from "../core/ldap/config.ts";
import { ldapListAll } from "../core/ldap/client.ts";
import type { Sql } from "../db/client.ts";
import type { ActorRef } from "../db/audit_events.ts";
import { applyDirectorySync } from "../db/directory.ts";
import type { ServeDeps, Service } from "./service.ts";

export async function syncDirectory(
  sql: Sql,
  ldap: LdapConfig,
  actor: ActorRef,
  dryRun = false,
): Promise<string[]> {
  const listing = await ldapListAll(ldap);
  return await applyDirectorySync(sql, listing, actor, dryRun);
}

/**
 * serve's schedule: a sync at start and every ldap_sync_minutes (0 = only on demand). Absent a directory,
 * nothing runs. A failing sync (directory down) is logged and retried at the next tick; it changes nothing,
 * so an outage of the directory never disables anyone.
 */
export function startDirectorySync(d: ServeDeps): Promise<Service> {
  const ldap = d.config.ldap;
  const log = d.log.child("directory");
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = syncDirectory(d.sql, ldap!, `directory:${d.config.nodeId}`)
      .then((changes) => {
        if (changes.length) {
          log.info("directory sync", { changes: changes.length, first: changes.slice(0, 20) });
        }
      })
      .catch((e) => log.warn("directory sync failed", { error: (e as Error).message }));
  };
  if (ldap && ldap.syncMinutes > 0) {
    tick();
    timer = setInterval(tick, ldap.syncMinutes * 60_000);
  }
  return Promise.resolve({
    name: "directory",
    async stop() {
      clearInterval(timer);
      await running;
    },
  });
}
