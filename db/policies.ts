// policies: time-bounded grants of a user or user group to a server group, a server, or a protocol of a server.
import type { Sql, TxSql } from "./client.ts";
import { isPolicyLogin } from "../policy/policy_login.ts";
import { writeAudit } from "./audit.ts";
import { actorName, type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import { isProtocol, type Protocol } from "../policy/model.ts";
import { formatSchedule, parseSchedule } from "../policy/schedule.ts";
import { PolicyInputError } from "../policy/errors.ts";

export interface PolicyRow {
  id: number;
  subject_kind: "user" | "user_group";
  subject: string;
  scope_kind: "server" | "server_group";
  scope: string;
  protocols: Protocol[];
  logins: string[];
  port_forwarding: boolean;
  /** logins under this grant need a second factor */
  require_mfa: boolean;
  /** weekly windows in canonical text (policy/schedule.ts); empty = any time between the dates */
  schedules: string[];
  valid_from: Date;
  valid_until: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  created_by: string;
  created_at: Date;
  status: "active" | "pending" | "expired" | "revoked";
}

export interface PolicyInput {
  user?: string;
  userGroup?: string;
  server?: string;
  serverGroup?: string;
  protocols?: string[];
  logins?: string[];
  portForwarding?: boolean;
  requireMfa?: boolean;
  /** "Mon-Fri 08:00-18:00 Europe/Berlin" …; validated and stored canonical */
  schedules?: string[];
  validFrom: Date;
  validUntil: Date;
}

export type PolicyStatusFilter = "active" | "pending" | "expired" | "revoked" | "all";

const SELECT_POLICY = (sql: Sql | TxSql) =>
  sql`
  SELECT p.id,
    CASE WHEN p.user_id IS NOT NULL THEN 'user' ELSE 'user_group' END AS subject_kind,
    COALESCE(u.name, ug.name) AS subject,
    CASE WHEN p.server_id IS NOT NULL THEN 'server' ELSE 'server_group' END AS scope_kind,
    COALESCE(s.name, sg.name) AS scope,
    p.protocols, p.logins, p.port_forwarding, p.require_mfa, p.schedules, p.valid_from, p.valid_until, p.revoked_at, p.revoked_by,
    p.revoke_reason, p.created_by, p.created_at,
    CASE WHEN p.revoked_at IS NOT NULL THEN 'revoked' WHEN p.valid_until <= now() THEN 'expired'
         WHEN p.valid_from > now() THEN 'pending' ELSE 'active' END AS status
  FROM policies p
  LEFT JOIN users u ON u.id = p.user_id LEFT JOIN user_groups ug ON ug.id = p.user_group_id
  LEFT JOIN servers s ON s.id = p.server_id LEFT JOIN server_groups sg ON sg.id = p.server_group_id`;

export async function listPolicies(
  sql: Sql,
  f: { status?: PolicyStatusFilter; user?: string; server?: string; limit?: number } = {},
): Promise<PolicyRow[]> {
  const status = f.status ?? "all";
  return await sql<PolicyRow[]>`${SELECT_POLICY(sql)} WHERE true
    ${
    status === "active"
      ? sql`AND p.revoked_at IS NULL AND p.valid_from <= now() AND p.valid_until > now()`
      : sql``
  }
    ${status === "pending" ? sql`AND p.revoked_at IS NULL AND p.valid_from > now()` : sql``}
    ${status === "expired" ? sql`AND p.revoked_at IS NULL AND p.valid_until <= now()` : sql``}
    ${status === "revoked" ? sql`AND p.revoked_at IS NOT NULL` : sql``}
    ${
    f.user
      ? sql`AND (u.name = ${f.user} OR p.user_group_id IN (SELECT m.group_id FROM user_group_members m
                JOIN users uu ON uu.id = m.user_id WHERE uu.name = ${f.user}))`
      : sql``
  }
    ${
    f.server
      ? sql`AND (s.name = ${f.server} OR p.server_group_id IN (SELECT m.group_id FROM server_group_members m
                JOIN servers ss ON ss.id = m.server_id WHERE ss.name = ${f.server}))`
      : sql``
  }
    ORDER BY p.id DESC LIMIT ${f.limit ?? 10_000}`;
}

export async function getPolicy(sql: Sql | TxSql, id: number): Promise<PolicyRow> {
  const [p] = await sql<PolicyRow[]>`${SELECT_POLICY(sql)} WHERE p.id = ${id}`;
  if (!p) throw new NotFoundError("policy", String(id));
  return p;
}

function checkLogins(logins: string[]): string[] {
  const out = [...new Set(logins.map((l) => l.trim()).filter((l) => l !== ""))];
  for (const l of out) {
    if (!isPolicyLogin(l)) {
      throw new InputError("logins", `login "${l}" is not a valid account name`);
    }
  }
  return out;
}

async function idOf(tx: TxSql, table: string, what: string, name: string): Promise<number> {
  const [r] = await tx<{ id: number }[]>`SELECT id FROM ${tx(table)} WHERE name = ${name}`;
  if (!r) throw new NotFoundError(what, name);
  return r.id;
}

/** Parses each schedule (a clear InputError naming the bad one) and returns their canonical texts. */
export function checkSchedules(texts: string[]): string[] {
  if (texts.length > 20) throw new InputError("schedules", "at most 20 schedules per policy");
  return [
    ...new Set(texts.map((t) => {
      try {
        return formatSchedule(parseSchedule(t));
      } catch (e) {
        if (e instanceof PolicyInputError) throw new InputError("schedules", `schedule: ${e.message}`);
        throw e;
      }
    })),
  ];
}

export async function createPolicy(sql: Sql, input: PolicyInput, actor: ActorRef): Promise<PolicyRow> {
  if ((input.user === undefined) === (input.userGroup === undefined)) {
    throw new InputError("subject", "give exactly one subject: a user or a user group");
  }
  if ((input.server === undefined) === (input.serverGroup === undefined)) {
    throw new InputError("scope", "give exactly one scope: a server or a server group");
  }
  if (isNaN(input.validFrom.getTime())) throw new InputError("valid_from", "valid from is not a date");
  if (isNaN(input.validUntil.getTime())) throw new InputError("valid_until", "valid until is not a date");
  if (input.validUntil <= input.validFrom) {
    throw new InputError("valid_until", "valid until must be after valid from");
  }
  const protocols = [...new Set((input.protocols ?? []).map((p) => p.toLowerCase()))];
  for (const p of protocols) if (!isProtocol(p)) throw new InputError("protocols", `unknown protocol "${p}"`);
  const logins = checkLogins(input.logins ?? []);
  const schedules = checkSchedules(input.schedules ?? []);
  return await sql.begin(async (tx) => {
    const userId = input.user !== undefined ? await idOf(tx, "users", "user", input.user) : null;
    const userGroupId = input.userGroup !== undefined
      ? await idOf(tx, "user_groups", "user group", input.userGroup)
      : null;
    let serverId: number | null = null;
    let effective = protocols.length ? protocols : ["ssh", "rdp"];
    if (input.server !== undefined) {
      const [s] = await tx<{ id: number; protocols: string[] }[]>`
        SELECT id, protocols FROM servers WHERE name = ${input.server}`;
      if (!s) throw new NotFoundError("server", input.server);
      serverId = s.id;
      if (protocols.length) {
        const off = protocols.filter((p) => !s.protocols.includes(p));
        if (off.length) {
          throw new InputError("protocols", `server ${input.server} does not offer ${off.join(", ")}`);
        }
      } else effective = s.protocols;
    }
    const serverGroupId = input.serverGroup !== undefined
      ? await idOf(tx, "server_groups", "server group", input.serverGroup)
      : null;
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO policies (user_id, user_group_id, server_id, server_group_id, protocols, logins, port_forwarding,
                            require_mfa, schedules, valid_from, valid_until, created_by)
      VALUES (${userId}, ${userGroupId}, ${serverId}, ${serverGroupId}, ${effective}, ${logins},
              ${!!input.portForwarding}, ${!!input
      .requireMfa}, ${schedules}, ${input.validFrom}, ${input.validUntil}, ${actorName(actor)})
      RETURNING id`;
    const p = await getPolicy(tx, id);
    await writeAudit(
      tx,
      changeEvent(actor, "policy.create", `policy:${id}`, {
        subject: p.subject,
        subject_kind: p.subject_kind,
        scope: p.scope,
        scope_kind: p.scope_kind,
        protocols: p.protocols,
        logins: p.logins,
        port_forwarding: p.port_forwarding,
        require_mfa: p.require_mfa,
        ...(p.schedules.length ? { schedules: p.schedules } : {}),
        valid_from: p.valid_from,
        valid_until: p.valid_until,
      }),
    );
    return p;
  }) as PolicyRow;
}

export async function revokePolicy(
  sql: Sql,
  id: number,
  actor: ActorRef,
  reason: string | null,
): Promise<PolicyRow> {
  return await sql.begin(async (tx) => {
    const p = await getPolicy(tx, id);
    if (p.revoked_at) throw new InputError("policy", `policy ${id} is already revoked`);
    const by = actorName(actor);
    await tx`UPDATE policies SET revoked_at = now(), revoked_by = ${by}, revoke_reason = ${reason}
             WHERE id = ${id}`;
    await writeAudit(tx, changeEvent(actor, "policy.revoke", `policy:${id}`, { reason, subject: p.subject }));
    return await getPolicy(tx, id);
  }) as PolicyRow;
}

export async function deletePolicy(sql: Sql, id: number, actor: ActorRef): Promise<void> {
  await sql.begin(async (tx) => {
    const p = await getPolicy(tx, id);
    await tx`DELETE FROM policies WHERE id = ${id}`;
    await writeAudit(
      tx,
      changeEvent(actor, "policy.delete", `policy:${id}`, { subject: p.subject, scope: p.scope }),
    );
  });
}
