// The just-in-time rules of server groups (migration 016): how many approvals a request needs, the longest
// grant it may get, who may approve. A server in several groups takes the strictest (policy/access_request.ts
// rulesOf); one in none, the defaults.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import { type RequestRules, rulesOf } from "../policy/access_request.ts";

/** The rules of a server's groups (the defaults for a server in none). */
export async function rulesForServer(tx: TxSql, serverId: number | null): Promise<RequestRules> {
  if (serverId === null) return rulesOf([]);
  const groups = await tx<{ approvals: number; max_minutes: number; approvers: string[] }[]>`
    SELECT g.request_approvals AS approvals, g.request_max_minutes AS max_minutes,
           g.request_approvers AS approvers
    FROM server_groups g JOIN server_group_members m ON m.group_id = g.id WHERE m.server_id = ${serverId}`;
  return rulesOf(
    groups.map((g) => ({ approvals: g.approvals, maxMinutes: g.max_minutes, approvers: g.approvers })),
  );
}

/** Per server group: the request rules (jumphost group edit --approvals/--max-request-minutes/--approvers). */
export interface GroupRequestRules {
  request_approvals: number;
  request_max_minutes: number;
  request_approvers: string[];
}

export async function requestRulesOfGroup(sql: Sql, group: string): Promise<GroupRequestRules> {
  const [g] = await sql<GroupRequestRules[]>`
    SELECT request_approvals, request_max_minutes, request_approvers FROM server_groups WHERE name = ${group}`;
  if (!g) throw new NotFoundError("server group", group);
  return g;
}

export async function setRequestRules(
  sql: Sql,
  group: string,
  change: { approvals?: number; maxMinutes?: number; approvers?: string[] },
  actor: ActorRef,
): Promise<GroupRequestRules> {
  const { approvals, maxMinutes } = change;
  if (approvals !== undefined && (!Number.isInteger(approvals) || approvals < 1 || approvals > 10)) {
    throw new InputError("approvals", "approvals: a whole number from 1 to 10");
  }
  if (maxMinutes !== undefined && (!Number.isInteger(maxMinutes) || maxMinutes < 1 || maxMinutes > 10080)) {
    throw new InputError("max_request_minutes", "max request minutes: a whole number from 1 to 10080");
  }
  const approvers = change.approvers === undefined
    ? null
    : [...new Set(change.approvers.map((a) => a.trim()).filter((a) => a !== ""))];
  return await sql.begin(async (tx) => {
    for (const a of approvers ?? []) {
      const [u] = await tx`SELECT 1 FROM console_users WHERE name = ${a}`;
      if (!u) throw new NotFoundError("console user", a);
    }
    const [g] = await tx<GroupRequestRules[]>`
      UPDATE server_groups SET request_approvals = COALESCE(${approvals ?? null}::integer, request_approvals),
        request_max_minutes = COALESCE(${maxMinutes ?? null}::integer, request_max_minutes),
        request_approvers = COALESCE(${approvers}::text[], request_approvers)
      WHERE name = ${group} RETURNING request_approvals, request_max_minutes, request_approvers`;
    if (!g) throw new NotFoundError("server group", group);
    await writeAudit(tx, changeEvent(actor, "group.update", group, { ...g }));
    return g;
  }) as GroupRequestRules;
}
