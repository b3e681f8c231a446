// Deciding access requests (access_requests.ts): an approval (the N-th creates the request's time-bounded
// policy in the same transaction), a denial, a user's own cancel. Each is checked against the request's
// rules and state, audited, and told to `notify` after commit; a refusal is audited too.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, type AuditEvent, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import { approve, mayDecide } from "../policy/access_request.ts";
import {
  type AccessRequestRow,
  expireDueRequests,
  getAccessRequest,
  type RequestNotify,
  requestReason,
} from "./access_requests.ts";
/** The request, locked until the transaction ends (decisions on one request run one after another). */
async function lockedRequest(tx: TxSql, id: number): Promise<AccessRequestRow> {
  const [locked] = await tx`SELECT id FROM access_requests WHERE id = ${id} FOR UPDATE`;
  if (!locked) throw new NotFoundError("request", String(id));
  return await getAccessRequest(tx, id);
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
    const r = await lockedRequest(tx, id);
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
  const reason = requestReason(input.reason);
  await expireDueRequests(sql, notify);
  const result = await sql.begin(async (tx) => {
    const r = await lockedRequest(tx, id);
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
