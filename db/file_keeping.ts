// Per server group: whether the files moved by scp and SFTP are kept (migration 012), and what that means for
// one server (any of its groups keeping files keeps them, with the largest cap among those groups).
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";

export interface KeepFiles {
  keep_files: boolean;
  keep_files_max_mb: number;
}

export async function keepFilesOfGroup(sql: Sql, group: string): Promise<KeepFiles> {
  const [g] = await sql<KeepFiles[]>`
    SELECT keep_files, keep_files_max_mb FROM server_groups WHERE name = ${group}`;
  if (!g) throw new NotFoundError("server group", group);
  return g;
}

export async function setKeepFiles(
  sql: Sql,
  group: string,
  change: { on?: boolean; maxMb?: number },
  actor: ActorRef,
): Promise<KeepFiles> {
  const max = change.maxMb;
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1048576)) {
    throw new InputError("keep_files_max_mb", "the size cap is a whole number of MiB from 1 to 1048576");
  }
  return await sql.begin(async (tx) => {
    const [g] = await tx<KeepFiles[]>`
      UPDATE server_groups SET keep_files = COALESCE(${change.on ?? null}::boolean, keep_files),
        keep_files_max_mb = COALESCE(${max ?? null}::integer, keep_files_max_mb)
      WHERE name = ${group} RETURNING keep_files, keep_files_max_mb`;
    if (!g) throw new NotFoundError("server group", group);
    await writeAudit(tx, changeEvent(actor, "group.update", group, { ...g }));
    return g;
  }) as KeepFiles;
}

/** The byte cap per kept file for a server, or null when none of its groups keeps files. */
export async function keepFilesCapForServer(sql: Sql, serverId: number): Promise<number | null> {
  const [r] = await sql<{ max_mb: number | null }[]>`
    SELECT max(g.keep_files_max_mb) AS max_mb FROM server_groups g
    JOIN server_group_members m ON m.group_id = g.id
    WHERE m.server_id = ${serverId} AND g.keep_files`;
  return r?.max_mb == null ? null : r.max_mb * 2 ** 20;
}
