// access_requests (migration 016): just-in-time access. A user asks (SSH prompt or exec command), approvers
// decide (CLI, console); the N-th approval creates an ordinary time-bounded policy linked to the request, in
// the same transaction, so the proxies' snapshot reloads through policy_changed. Every step is audited
// (request.created, request.approval, request.approved, request.denied, request.expired, request.cancelled;
// webhooks subscribe to those actions), and `RequestNotify` lets a caller hear of them after commit.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, type AuditEvent, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import {
  approve,
  checkReason,
  mayDecide,
  REQUEST_MINUTES_LIMIT,
  RequestInputError,
  type RequestRules,
  type RequestState,
  rulesOf,
} from "../policy/access_request.ts";
import { isPolicyLogin } from "../policy/policy_login.ts";
import type { Protocol } from "../policy/model.ts";

export interface RequestApprovalRow {
  approver: string;
  note: string | null;
  minutes: number;
  logins: string[];
  at: Date;
}

export interface AccessRequestRow {
  id: number;
  user_id: number | null;
  user_name: string;
  server_id: number | null;
  server_name: string;
  protocol: Protocol;
  logins: string[];
  minutes: number;
  reason: string;
  source_ip: string | null;
  via: "ssh_prompt" | "ssh_exec" | "portal";
  state: RequestState;
  approvals_needed: number;
  max_minutes: number;
  approvers: string[];
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  granted_minutes: number | null;
  granted_logins: string[] | null;
  policy_id: number | null;
  approvals: RequestApprovalRow[];
}

export type RequestEventKind = "created" | "approval" | "approved" | "denied" | "expired" | "cancelled";

/**
 * Told after commit of every change of a request (a hook for notifications; the webhooks module already
 * hears the same through the audit rows). Errors it throws are the caller's.
 */
export type RequestNotify = (kind: RequestEventKind, request: AccessRequestRow) => void;

/** At most this many pending requests per user: a loop in a script cannot flood the approvers' queue. */
export const MAX_PENDING_PER_USER = 5;

const SELECT = (sql: Sql | TxSql) =>
  sql`SELECT r.id, r.user_id, r.user_name, r.server_id, r.server_name, r.protocol, r.logins, r.minutes, r.reason,
    host(r.source_ip) AS source_ip, r.via, r.state, r.approvals_needed, r.max_minutes, r.approvers, r.created_at,
    r.expires_at, r.decided_at, r.decided_by, r.decision_note, r.granted_minutes, r.granted_logins, r.policy_id,
    COALESCE((SELECT json_agg(json_build_object('approver', a.approver, 'note', a.note, 'minutes', a.minutes,
                                                'logins', a.logins, 'at', a.at) ORDER BY a.at)
              FROM access_request_approvals a WHERE a.request_id = r.id), '[]') AS approvals
  FROM access_requests r`;

function fixDates(r: AccessRequestRow): AccessRequestRow {
  r.approvals = r.approvals.map((a) => ({ ...a, at: new Date(a.at) }));
  return r;
}

export async function getAccessRequest(sql: Sql | TxSql, id: number): Promise<AccessRequestRow> {
  const [r] = await sql<AccessRequestRow[]>`${SELECT(sql)} WHERE r.id = ${id}`;
  if (!r) throw new NotFoundError("request", String(id));
  return fixDates(r);
}

export async function listAccessRequests(
  sql: Sql,
  f: { pending?: boolean; userId?: number; limit?: number } = {},
): Promise<AccessRequestRow[]> {
  const rows = await sql<AccessRequestRow[]>`${SELECT(sql)} WHERE true
    ${f.pending ? sql`AND r.state = 'pending'` : sql``}
    ${f.userId !== undefined ? sql`AND r.user_id = ${f.userId}` : sql``}
    ORDER BY r.id DESC LIMIT ${Math.min(Math.max(f.limit ?? 200, 1), 10_000)}`;
  return rows.map(fixDates);
}

export async function countPendingRequests(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM access_requests WHERE state = 'pending' AND expires_at > now()`;
  return n;
}

/** The rules of a server's groups (the defaults for a server in none). */
async function rulesForServer(tx: TxSql, serverId: number | null): Promise<RequestRules> {
  if (serverId === null) return rulesOf([]);
  const groups = await tx<{ approvals: number; max_minutes: number; approvers: string[] }[]>`
    SELECT g.request_approvals AS approvals, g.request_max_minutes AS max_minutes,
           g.request_approvers AS approvers
    FROM server_groups g JOIN server_group_members m ON m.group_id = g.id WHERE m.server_id = ${serverId}`;
  return rulesOf(
    groups.map((g) => ({ approvals: g.approvals, maxMinutes: g.max_minutes, approvers: g.approvers })),
  );
}

export interface NewAccessRequest {
  userId: number;
  userName: string;
  /** as the user typed it; a name no server has is accepted the same way (and never approvable) */
  serverName: string;
  protocol: Protocol;
  logins: string[];
  minutes: number;
  reason: string;
  sourceIp: string | null;
  via: AccessRequestRow["via"];
  /** the request is pending this long (config request_wait_minutes) */
  waitMinutes: number;
  /** audit details from the front end (the SSH connection's reference …) */
  details?: Record<string, unknown>;
}

function inputError(e: unknown): never {
  if (e instanceof RequestInputError) throw new InputError(e.code, e.message);
  throw e;
}

export async function createAccessRequest(
  sql: Sql,
  input: NewAccessRequest,
  notify?: RequestNotify,
): Promise<AccessRequestRow> {
  let reason: string;
  try {
    reason = checkReason(input.reason);
  } catch (e) {
    inputError(e);
  }
  if (!Number.isInteger(input.minutes) || input.minutes < 1 || input.minutes > REQUEST_MINUTES_LIMIT) {
    throw new InputError("minutes", `minutes: give whole minutes from 1 to ${REQUEST_MINUTES_LIMIT}`);
  }
  const logins = [...new Set(input.logins.map((l) => l.trim()).filter((l) => l !== ""))];
  if (logins.length === 0 || logins.length > 16) {
    throw new InputError("logins", "logins: give 1 to 16 logins");
  }
  for (const l of logins) {
    if (!isPolicyLogin(l) || l.length > 128) {
      throw new InputError("logins", `login "${l.slice(0, 40)}" is not valid`);
    }
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(input.serverName)) {
    throw new InputError("server", "server: give a server name (letters, digits, '.', '_', '-')");
  }
  const row = await sql.begin(async (tx) => {
    const [{ n }] = await tx<{ n: number }[]>`
      SELECT count(*)::int AS n FROM access_requests
      WHERE user_id = ${input.userId} AND state = 'pending' AND expires_at > now()`;
    if (n >= MAX_PENDING_PER_USER) {
      throw new InputError(
        "request",
        `you have ${n} pending requests; wait for a decision or for them to expire`,
      );
    }
    const [server] = await tx<{ id: number }[]>`SELECT id FROM servers WHERE name = ${input.serverName}`;
    const serverId = server?.id ?? null;
    const rules = await rulesForServer(tx, serverId);
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO access_requests (user_id, user_name, server_id, server_name, protocol, logins, minutes, reason,
                                   source_ip, via, approvals_needed, max_minutes, approvers, expires_at)
      VALUES (${input.userId}, ${input.userName}, ${serverId}, ${input.serverName}, ${input.protocol}, ${logins},
              ${input.minutes}, ${reason}, ${input.sourceIp}, ${input.via}, ${rules.approvals},
              ${rules.maxMinutes}, ${rules.approvers},
              now() + make_interval(mins => ${Math.max(1, Math.round(input.waitMinutes))}))
      RETURNING id`;
    const r = await getAccessRequest(tx, id);
    await writeAudit(tx, {
      actor: input.userName,
      action: "request.created",
      target: `request:${id}`,
      sourceIp: input.sourceIp,
      success: true,
      details: {
        ...input.details,
        user: input.userName,
        server: input.serverName,
        // the asker is told nothing about this; the audit log and the approvers are
        server_known: serverId !== null,
        protocol: input.protocol,
        logins,
        minutes: input.minutes,
        reason,
        via: input.via,
        approvals_needed: rules.approvals,
        max_minutes: rules.maxMinutes,
        expires_at: r.expires_at,
      },
    });
    return r;
  }) as AccessRequestRow;
  notify?.("created", row);
  return row;
}

/** Marks pending requests past their time as expired (audited one by one); returns them. */
export async function expireDueRequests(sql: Sql, notify?: RequestNotify): Promise<AccessRequestRow[]> {
  const rows = await sql.begin(async (tx) => {
    const ids = await tx<{ id: number }[]>`
      UPDATE access_requests SET state = 'expired', decided_at = now(), decided_by = 'system'
      WHERE state = 'pending' AND expires_at <= now() RETURNING id`;
    const out: AccessRequestRow[] = [];
    for (const { id } of ids) {
      const r = await getAccessRequest(tx, id);
      out.push(r);
    }
    for (const r of out) {
      await writeAudit(tx, {
        actor: "system",
        action: "request.expired",
        target: `request:${r.id}`,
        success: true,
        details: {
          user: r.user_name,
          server: r.server_name,
          logins: r.logins,
          approvals: r.approvals.length,
        },
      });
    }
    return out;
  }) as AccessRequestRow[];
  for (const r of rows) notify?.("expired", r);
  return rows;
}

/** The waiting connection's question: what is this request's state now? */
export async function requestStateOf(
  sql: Sql,
  id: number,
): Promise<{ state: RequestState; note: string | null; policyId: number | null; expired: boolean }> {
  const [r] = await sql<
    { state: RequestState; note: string | null; policy_id: number | null; due: boolean }[]
  >`
    SELECT state, decision_note AS note, policy_id, expires_at <= now() AS due FROM access_requests WHERE id = ${id}`;
  if (!r) throw new NotFoundError("request", String(id));
  return { state: r.state, note: r.note, policyId: r.policy_id, expired: r.due };
}

interface Approver {
  name: string;
  role: "admin" | "operator" | "auditor";
}

async function approverOf(tx: TxSql, name: string): Promise<Approver> {
  const [u] = await tx<(Approver & { active: boolean })[]>`
    SELECT name, role, active FROM console_users WHERE name = ${name}`;
  if (!u || !u.active) throw new InputError("approver", `no active console user "${name}"`);
  return { name: u.name, role: u.role };
}

export interface ApproveInput {
  /** the console user approving */
  approver: string;
  minutes?: number;
  logins?: string[];
  note?: string | null;
}

function checkNote(note: string | null | undefined): string | null {
  const n = note?.trim() || null;
  // deno-lint-ignore no-control-regex
  if (n !== null && (n.length > 500 || /[\x00-\x1f\x7f]/.test(n))) {
    throw new InputError("note", "note: one line of at most 500 characters");
  }
  return n;
}

/** A refusal to approve or deny, audited (success false) and thrown as an InputError. */
async function refused(
  sql: Sql,
  actor: ActorRef,
  id: number,
  verb: "approve" | "deny",
  code: string,
  message: string,
): Promise<never> {
  const e: AuditEvent = {
    ...changeEvent(actor, "request.refused", `request:${id}`, { attempted: verb, code, message }),
    success: false,
  };
  await writeAudit(sql, e);
  throw new InputError("request", `request ${id}: ${message}`);
}

/**
 * One approval. The N-th (the server groups' request_approvals when it was asked) approves the request and
 * creates its policy: the user, the server, the protocol, the approved logins, from now for the approved minutes.
 */
export async function approveAccessRequest(
  sql: Sql,
  id: number,
  input: ApproveInput,
  actor: ActorRef,
  notify?: RequestNotify,
): Promise<AccessRequestRow> {
  const note = checkNote(input.note);
  await expireDueRequests(sql, notify);
  const result = await sql.begin(async (tx) => {
    const [locked] = await tx`SELECT id FROM access_requests WHERE id = ${id} FOR UPDATE`;
    if (!locked) throw new NotFoundError("request", String(id));
    const r = await getAccessRequest(tx, id);
    const who = await approverOf(tx, input.approver);
    const [{ now }] = await tx<{ now: Date }[]>`SELECT now()`;
    const o = approve(
      {
        state: r.state,
        userName: r.user_name,
        minutes: r.minutes,
        logins: r.logins,
        approvalsNeeded: r.approvals_needed,
        maxMinutes: r.max_minutes,
        approvers: r.approvers,
        expiresAt: r.expires_at,
        serverExists: r.server_id !== null && r.user_id !== null,
      },
      r.approvals,
      { approver: who.name, role: who.role, minutes: input.minutes, logins: input.logins },
      now,
    );
    if (!o.ok) return o;
    await tx`INSERT INTO access_request_approvals (request_id, approver, note, minutes, logins)
             VALUES (${id}, ${who.name}, ${note}, ${o.minutes}, ${o.logins})`;
    if (!o.complete) {
      await writeAudit(
        tx,
        changeEvent(actor, "request.approval", `request:${id}`, {
          user: r.user_name,
          server: r.server_name,
          approver: who.name,
          minutes: o.minutes,
          logins: o.logins,
          note,
          approvals: o.count,
          approvals_needed: r.approvals_needed,
        }),
      );
      return { ok: true as const, kind: "approval" as const, row: await getAccessRequest(tx, id) };
    }
    const [{ id: policyId }] = await tx<{ id: number }[]>`
      INSERT INTO policies (user_id, server_id, protocols, logins, valid_from, valid_until, created_by,
                            access_request_id)
      VALUES (${r.user_id}, ${r.server_id}, ${[r.protocol]}, ${o.grantLogins}, now(),
              now() + make_interval(mins => ${o.grantMinutes}), ${`request:${id}`}, ${id})
      RETURNING id`;
    await tx`UPDATE access_requests SET state = 'approved', decided_at = now(), decided_by = ${who.name},
               decision_note = ${note}, granted_minutes = ${o.grantMinutes}, granted_logins = ${o.grantLogins},
               policy_id = ${policyId}
             WHERE id = ${id}`;
    const row = await getAccessRequest(tx, id);
    await writeAudit(
      tx,
      changeEvent(actor, "policy.create", `policy:${policyId}`, {
        subject: r.user_name,
        subject_kind: "user",
        scope: r.server_name,
        scope_kind: "server",
        protocols: [r.protocol],
        logins: o.grantLogins,
        access_request: id,
        valid_until: new Date(row.decided_at!.getTime() + o.grantMinutes * 60_000),
      }),
    );
    await writeAudit(
      tx,
      changeEvent(actor, "request.approved", `request:${id}`, {
        user: r.user_name,
        server: r.server_name,
        approver: who.name,
        approvers: row.approvals.map((a) => a.approver),
        minutes: o.grantMinutes,
        logins: o.grantLogins,
        asked_minutes: r.minutes,
        asked_logins: r.logins,
        note,
        policy_id: policyId,
      }),
    );
    return { ok: true as const, kind: "approved" as const, row };
  });
  if (!result.ok) return await refused(sql, actor, id, "approve", result.code, result.message);
  notify?.(result.kind, result.row);
  return result.row;
}

export async function denyAccessRequest(
  sql: Sql,
  id: number,
  input: { approver: string; reason: string },
  actor: ActorRef,
  notify?: RequestNotify,
): Promise<AccessRequestRow> {
  let reason: string;
  try {
    reason = checkReason(input.reason);
  } catch (e) {
    inputError(e);
  }
  await expireDueRequests(sql, notify);
  const result = await sql.begin(async (tx) => {
    const [locked] = await tx`SELECT id FROM access_requests WHERE id = ${id} FOR UPDATE`;
    if (!locked) throw new NotFoundError("request", String(id));
    const r = await getAccessRequest(tx, id);
    const who = await approverOf(tx, input.approver);
    if (r.state !== "pending") {
      return { ok: false as const, code: "not_pending", message: `the request is ${r.state}` };
    }
    const may = mayDecide({ userName: r.user_name, approvers: r.approvers }, {
      approver: who.name,
      role: who.role,
    });
    if (!may.ok) return may;
    await tx`UPDATE access_requests SET state = 'denied', decided_at = now(), decided_by = ${who.name},
               decision_note = ${reason}
             WHERE id = ${id}`;
    await writeAudit(
      tx,
      changeEvent(actor, "request.denied", `request:${id}`, {
        user: r.user_name,
        server: r.server_name,
        approver: who.name,
        reason,
      }),
    );
    return { ok: true as const, row: await getAccessRequest(tx, id) };
  });
  if (!result.ok) return await refused(sql, actor, id, "deny", result.code, result.message);
  notify?.("denied", result.row);
  return result.row;
}

/**
 * The asker gave up (closed the waiting connection): a pending request is withdrawn ("cancelled"); or the
 * waiting connection's time ran out ("expired").
 */
export async function cancelAccessRequest(
  sql: Sql,
  id: number,
  why: string,
  notify?: RequestNotify,
  state: "cancelled" | "expired" = "cancelled",
): Promise<AccessRequestRow | null> {
  const row = await sql.begin(async (tx) => {
    const [r] = await tx<{ user_name: string; server_name: string }[]>`
      UPDATE access_requests SET state = ${state}, decided_at = now(),
        decided_by = CASE WHEN ${state} = 'expired' THEN 'system' ELSE user_name END,
        decision_note = ${why.slice(0, 500)}
      WHERE id = ${id} AND state = 'pending' RETURNING user_name, server_name`;
    if (!r) return null;
    await writeAudit(tx, {
      actor: state === "expired" ? "system" : r.user_name,
      action: state === "expired" ? "request.expired" : "request.cancelled",
      target: `request:${id}`,
      success: true,
      details: { user: r.user_name, server: r.server_name, why },
    });
    return await getAccessRequest(tx, id);
  }) as AccessRequestRow | null;
  if (row) notify?.(state, row);
  return row;
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
