// Deleting a server also removes the appliance's backend key for it: a server created later under the
// same name must not log in with a key that was meant for another machine.
import type { Sql } from "../db/client.ts";
import { writeAudit } from "../db/audit.ts";
import { type ActorRef, changeEvent } from "../db/audit_events.ts";
import { deleteServer } from "../db/servers.ts";
import { removeBackendKeyIfAny } from "./backend_keys.ts";

/** Returns the removed key's fingerprint, or null when the server had none. */
export async function deleteServerAndKey(
  sql: Sql,
  dataDir: string | undefined,
  name: string,
  actor: ActorRef,
): Promise<string | null> {
  await deleteServer(sql, name, actor);
  if (dataDir === undefined) return null;
  const info = await removeBackendKeyIfAny(dataDir, name);
  if (!info) return null;
  await writeAudit(
    sql,
    changeEvent(actor, "server.backend_key_removed", name, {
      fingerprint: info.fingerprint,
      reason: "server deleted",
    }),
  );
  return info.fingerprint;
}
