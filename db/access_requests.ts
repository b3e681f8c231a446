// access_requests (migration 016): just-in-time access. A user asks (SSH prompt or exec command), approvers
// decide (CLI, console); the N-th approval creates an ordinary time-bounded policy linked to the request, in
// the same transaction, so the proxies' snapshot reloads through policy_changed. Every step is audited
// (request.created, request.approval, request.approved, request.denied, request.expired, request.cancelled;
// webhooks subscribe to those actions), and `RequestNotify` lets a caller hear of them after commit.
// Here: the rows, asking, expiry; deciding is access_request_decisions.ts, the groups' rules request_rules.ts.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { InputError, NotFoundError } from "./errors.ts";
import {
  checkReason,
  REQUEST_MINUTES_LIMIT,
  RequestInputError,
  type RequestState,
} from "../policy/access_request.ts";
import { isPolicyLogin } from "../policy/policy_login.ts";
import { rulesForServer } from "./request_rules.ts";
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

/** A policy-layer RequestInputError as the database layer's InputError; anything else as it is. */
function inputError(e: unknown): never {
  if (e instanceof RequestInputError) throw new InputError(e.code, e.message);
  throw e;
}

/** The reason of a request or a denial, checked (policy/access_request.ts); an InputError when it is not one. */
export function requestReason(text: string): string {
  try {
    return checkReason(text);
  } catch (e) {
    inputError(e);
  }
}

export async function createAccessRequest(
  sql: Sql,
  input: NewAccessRequest,
  notify?: RequestNotify,
): Promise<AccessRequestRow> {
  const reason = requestReason(input.reason);
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
