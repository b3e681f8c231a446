// Just-in-time access requests, the pure part: reading what a user typed (minutes, reason), the rules a
// server's groups set, and the approval state machine (who may approve, shortening, N of M). No SQL, no clock:
// `now` and the rows are arguments. db/access_requests.ts does the I/O around it.

/** The longest access a request may ask for at all (a week); a server group's maximum is at most this. */
export const REQUEST_MINUTES_LIMIT = 10_080;
export const REASON_MAX = 500;
export const REASON_MIN = 3;
/** Rules for a server in no group (and for a name no server has: the asker cannot tell the two apart). */
export const DEFAULT_REQUEST_RULES: RequestRules = { approvals: 1, maxMinutes: 480, approvers: [] };

export type RequestState = "pending" | "approved" | "denied" | "expired" | "cancelled";
export const REQUEST_STATES: readonly RequestState[] = [
  "pending",
  "approved",
  "denied",
  "expired",
  "cancelled",
];

export class RequestInputError extends Error {
  override name = "RequestInputError";
  constructor(readonly code: "minutes" | "reason" | "logins", message: string) {
    super(message);
  }
}

/** "60", "60m", "90min", "2h", "1h30m" → minutes; anything else, 0, or more than a week is refused. */
export function parseMinutes(text: string): number {
  const t = text.trim().toLowerCase();
  const m = /^(?:(\d{1,4})\s*h)?\s*(?:(\d{1,5})\s*(?:m|min|mins|minutes?)?)?$/.exec(t);
  const bad = () =>
    new RequestInputError(
      "minutes",
      `minutes: "${
        text.slice(0, 20)
      }" is not a duration; give whole minutes from 1 to ${REQUEST_MINUTES_LIMIT} ` +
        `(e.g. 60, 90m or 2h)`,
    );
  if (t === "" || !m || (m[1] === undefined && m[2] === undefined)) throw bad();
  const minutes = Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > REQUEST_MINUTES_LIMIT) throw bad();
  return minutes;
}

/** A reason is one line of 3 to 500 printable characters (it is shown to approvers and in webhooks). */
export function checkReason(text: string): string {
  const r = text.trim();
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(r)) {
    throw new RequestInputError("reason", "reason: control characters and line breaks are not allowed");
  }
  if (r.length < REASON_MIN || r.length > REASON_MAX) {
    throw new RequestInputError("reason", `reason: give ${REASON_MIN} to ${REASON_MAX} characters`);
  }
  return r;
}

export type PromptAnswer =
  | { kind: "declined" }
  | { kind: "request"; minutes: number; reason: string }
  | { kind: "invalid"; message: string };

/**
 * The answer to "Request access? Minutes, reason:": empty, "n" or "no" declines; otherwise a duration, then a
 * comma or spaces, then the reason ("60, restart nginx", "2h disk full on /var").
 */
export function parsePromptAnswer(text: string): PromptAnswer {
  const t = text.trim();
  if (t === "" || /^(n|no)$/i.test(t)) return { kind: "declined" };
  // "1h 30m, why" splits at the comma; "2h disk full, /var" at the first space (its comma is the reason's)
  const comma = t.indexOf(",");
  const space = t.search(/\s/);
  const cut = comma > 0 && isDuration(t.slice(0, comma)) ? comma : space > 0 ? space : comma;
  if (cut <= 0) {
    return { kind: "invalid", message: "answer with minutes and a reason, e.g.: 60, restart nginx" };
  }
  const m = [t, t.slice(0, cut), t.slice(cut + 1)];
  try {
    return { kind: "request", minutes: parseMinutes(m[1]), reason: checkReason(m[2]) };
  } catch (e) {
    if (e instanceof RequestInputError) return { kind: "invalid", message: e.message };
    throw e;
  }
}

function isDuration(text: string): boolean {
  try {
    parseMinutes(text);
    return true;
  } catch {
    return false;
  }
}

export interface RequestRules {
  /** approvals needed (N) */
  approvals: number;
  /** the longest access an approved request gives */
  maxMinutes: number;
  /** console users who may approve besides admins; empty = admins and operators */
  approvers: string[];
}

/** A server in several groups gets the strictest: the most approvals, the shortest maximum, all named approvers. */
export function rulesOf(groups: RequestRules[]): RequestRules {
  if (groups.length === 0) return { ...DEFAULT_REQUEST_RULES };
  return {
    approvals: Math.max(...groups.map((g) => g.approvals)),
    maxMinutes: Math.min(...groups.map((g) => g.maxMinutes)),
    approvers: [...new Set(groups.flatMap((g) => g.approvers))].sort(),
  };
}

/** Minutes an approved request may get: what was asked, never past the maximum. */
export function clampMinutes(requested: number, max: number): number {
  return Math.max(1, Math.min(requested, max, REQUEST_MINUTES_LIMIT));
}

export type ApproverRole = "admin" | "operator" | "auditor";

/**
 * Identity across the two account kinds: a console user and a jump user with the same name (compared without
 * case) are the same person, so neither approves the other's requests.
 */
export function samePerson(consoleUser: string, jumpUser: string): boolean {
  return consoleUser.toLowerCase() === jumpUser.toLowerCase();
}

export interface PendingRequest {
  state: RequestState;
  userName: string;
  minutes: number;
  logins: string[];
  approvalsNeeded: number;
  maxMinutes: number;
  approvers: string[];
  expiresAt: Date;
  /** false when the name asked for is no server's: nobody can approve it */
  serverExists: boolean;
}

export interface PriorApproval {
  approver: string;
  minutes: number;
  logins: string[];
}

export interface ApprovalInput {
  approver: string;
  role: ApproverRole;
  /** shorter than asked (never longer, never past the maximum) */
  minutes?: number;
  /** a subset of the logins asked for */
  logins?: string[];
}

export type ApprovalRefusal =
  | "not_pending"
  | "expired"
  | "self_approval"
  | "not_an_approver"
  | "already_approved"
  | "lengthened"
  | "login_not_requested"
  | "no_such_server";

export type ApprovalOutcome =
  | { ok: false; code: ApprovalRefusal; message: string }
  | {
    ok: true;
    /** this approver's minutes and logins */
    minutes: number;
    logins: string[];
    /** approvals so far, this one included */
    count: number;
    /** enough approvals: the request is approved with grantMinutes and grantLogins */
    complete: boolean;
    grantMinutes: number;
    grantLogins: string[];
  };

/** Whether this console user may approve or deny at all (role, named approvers, not their own request). */
export function mayDecide(
  req: Pick<PendingRequest, "userName" | "approvers">,
  who: { approver: string; role: ApproverRole },
): { ok: true } | { ok: false; code: "self_approval" | "not_an_approver"; message: string } {
  if (samePerson(who.approver, req.userName)) {
    return { ok: false, code: "self_approval", message: "nobody may decide their own request" };
  }
  const named = req.approvers.some((a) => a.toLowerCase() === who.approver.toLowerCase());
  const allowed = who.role === "admin" || named || (who.role === "operator" && req.approvers.length === 0);
  if (!allowed) {
    return {
      ok: false,
      code: "not_an_approver",
      message: req.approvers.length
        ? `only admins and the named approvers (${req.approvers.join(", ")}) decide this request`
        : "only admins and operators decide requests",
    };
  }
  return { ok: true };
}

/** One approval of a pending request: refused with a reason, or counted (and complete at N approvals). */
export function approve(
  req: PendingRequest,
  prior: PriorApproval[],
  input: ApprovalInput,
  now: Date,
): ApprovalOutcome {
  const refuse = (code: ApprovalRefusal, message: string): ApprovalOutcome => ({ ok: false, code, message });
  if (req.state !== "pending") return refuse("not_pending", `the request is ${req.state}`);
  if (now.getTime() >= req.expiresAt.getTime()) return refuse("expired", "the request has expired");
  const may = mayDecide(req, input);
  if (!may.ok) return refuse(may.code, may.message);
  if (!req.serverExists) return refuse("no_such_server", "the request names no existing server");
  if (prior.some((p) => p.approver.toLowerCase() === input.approver.toLowerCase())) {
    return refuse("already_approved", `${input.approver} has already approved this request`);
  }
  const asked = clampMinutes(req.minutes, req.maxMinutes);
  const minutes = input.minutes ?? asked;
  if (!Number.isInteger(minutes) || minutes < 1) return refuse("lengthened", "minutes must be 1 or more");
  if (minutes > asked) {
    return refuse(
      "lengthened",
      `an approval may shorten, never lengthen: at most ${asked} minutes` +
        (req.maxMinutes < req.minutes ? ` (the group maximum)` : ""),
    );
  }
  const logins = input.logins?.length ? [...new Set(input.logins)] : [...req.logins];
  const extra = logins.filter((l) => !req.logins.includes(l));
  if (extra.length) {
    return refuse(
      "login_not_requested",
      `not asked for: ${extra.join(", ")} (asked: ${req.logins.join(", ")})`,
    );
  }
  const all = [...prior, { approver: input.approver, minutes, logins }];
  const grantMinutes = Math.min(...all.map((a) => a.minutes));
  const grantLogins = req.logins.filter((l) => all.every((a) => a.logins.includes(l)));
  if (grantLogins.length === 0) {
    return refuse(
      "login_not_requested",
      "the approvals share no login; approve at least one login the others did",
    );
  }
  return {
    ok: true,
    minutes,
    logins,
    count: all.length,
    complete: all.length >= req.approvalsNeeded,
    grantMinutes,
    grantLogins,
  };
}
