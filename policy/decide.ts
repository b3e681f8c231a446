// decide(snapshot, request, now): the one place that says yes or no. Pure: no clock, no I/O.
//
// Order of checks (the first failure is the reason): source IP → user active → server known →
// server active → protocol enabled on the server → some policy of the user (directly or through a
// user group) scoped to the server (directly or through a server group) → each such policy's own
// verdict. Access is allowed when at least one policy is valid for this protocol (and login, if
// known). Otherwise the reason is the policy verdict closest to success, see POLICY_DENY_PRECEDENCE.

import { PolicyInputError } from "./errors.ts";
import { describeAmbiguity, type IdentifyOptions, identifySource, resolveServer } from "./lookup.ts";
import type { AccessRequest, Allow, Decision, Deny, DenyReason, Protocol, Server, User } from "./model.ts";
import type { CompiledPolicy, Snapshot } from "./snapshot.ts";
import { windowsLoginAllowed } from "./windows_login.ts";
import { formatSchedule, scheduleState } from "./schedule.ts";

export type PolicyVerdict =
  | "valid"
  | "revoked"
  | "not_yet_valid"
  | "expired"
  | "wrong_protocol"
  | "login_not_allowed"
  | "outside_schedule";

/**
 * When no policy is valid, the denial reports the verdict closest to success: a live grant for
 * this protocol with other logins says more ("ask for login X") than one for another protocol,
 * which says more than a grant that starts later, than one that ran out, than one an admin
 * withdrew. The detail text still lists every policy evaluated with its own verdict.
 */
export const POLICY_DENY_PRECEDENCE: readonly Exclude<PolicyVerdict, "valid">[] = [
  "login_not_allowed",
  "outside_schedule",
  "wrong_protocol",
  "not_yet_valid",
  "expired",
  "revoked",
];

export interface PolicyEvaluation {
  policyId: number;
  verdict: PolicyVerdict;
  /** e.g. "#12 (user group 3 → server group 7) expired at 2025-01-01T00:00:00.000Z" */
  text: string;
}

export interface Explanation {
  decision: Decision;
  /** every policy that applied to this user and server, in id order */
  evaluations: PolicyEvaluation[];
}

export interface DecideOptions extends IdentifyOptions {
  /**
   * The user, already identified by the caller (an RDP user proven by NLA, whose source CIDRs the caller
   * checked): source identification is skipped. Unknown id = deny unknown_source_ip.
   */
  userId?: number;
}

const MAX_DETAIL_POLICIES = 10;

export function checkedTime(now: Date): number {
  const ms = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new PolicyInputError("invalid_time", "decision time is not a valid date");
  return ms;
}

/**
 * One policy's verdict for a request at `nowMs`; login undefined = not known yet (not checked). SSH logins
 * compare exactly (Unix names are case-sensitive); RDP logins the way Windows does (windows_login.ts).
 */
export function policyVerdict(
  cp: CompiledPolicy,
  protocol: Protocol,
  login: string | undefined,
  nowMs: number,
): PolicyVerdict {
  if (cp.revoked) return "revoked";
  if (nowMs < cp.fromMs) return "not_yet_valid";
  if (nowMs >= cp.untilMs) return "expired";
  if (!cp.policy.protocols.includes(protocol)) return "wrong_protocol";
  if (login !== undefined && cp.logins !== null) {
    const ok = protocol === "rdp" ? windowsLoginAllowed(cp.policy.logins, login) : cp.logins.has(login);
    if (!ok) return "login_not_allowed";
  }
  if (cp.schedules && !scheduleState(cp.schedules, nowMs).inside) return "outside_schedule";
  return "valid";
}

/** Policies granting `user` anything on `server`: user and user-group subjects × server and group scopes. */
export function applicablePolicies(snapshot: Snapshot, user: User, server: Server): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  const seen = new Set<number>();
  const collect = (list: CompiledPolicy[] | undefined) => {
    if (!list) return;
    for (const cp of list) {
      if (!seen.has(cp.policy.id)) {
        seen.add(cp.policy.id);
        out.push(cp);
      }
    }
  };
  const indexes = [snapshot.policiesByUser.get(user.id)];
  for (const groupId of user.groupIds) indexes.push(snapshot.policiesByUserGroup.get(groupId));
  for (const index of indexes) {
    if (!index) continue;
    collect(index.byServer.get(server.id));
    for (const groupId of server.groupIds) collect(index.byServerGroup.get(groupId));
  }
  return out.sort((a, b) => a.policy.id - b.policy.id);
}

function describePolicy(cp: CompiledPolicy, verdict: PolicyVerdict): string {
  const p = cp.policy;
  const subject = p.subject.kind === "user"
    ? `user ${p.subject.userId}`
    : `user group ${p.subject.userGroupId}`;
  const scope = p.scope.kind === "server"
    ? `server ${p.scope.serverId}`
    : `server group ${p.scope.serverGroupId}`;
  const head = `#${p.id} (${subject} → ${scope})`;
  switch (verdict) {
    case "valid":
      return `${head} valid until ${p.validUntil.toISOString()}`;
    case "revoked":
      return `${head} revoked at ${p.revokedAt?.toISOString()}`;
    case "not_yet_valid":
      return `${head} not valid before ${p.validFrom.toISOString()}`;
    case "expired":
      return `${head} expired at ${p.validUntil.toISOString()}`;
    case "wrong_protocol":
      return `${head} grants ${p.protocols.join(", ") || "no protocol"} only`;
    case "login_not_allowed":
      return `${head} allows logins ${p.logins.join(", ")} only`;
    case "outside_schedule":
      return `${head} applies only ${(p.schedules ?? []).map(formatSchedule).join("; ")}`;
  }
}

/** Most permissive first (forwarding, then any login), then latest expiry, then lowest id. */
function morePermissive(a: CompiledPolicy, b: CompiledPolicy): boolean {
  if (a.policy.portForwarding !== b.policy.portForwarding) return a.policy.portForwarding;
  if ((a.logins === null) !== (b.logins === null)) return a.logins === null;
  if (a.untilMs !== b.untilMs) return a.untilMs > b.untilMs;
  return a.policy.id < b.policy.id;
}

/** When a valid policy stops counting: its end date, or sooner the end of its current weekly window. */
function effectiveUntil(cp: CompiledPolicy, nowMs: number): number {
  if (!cp.schedules) return cp.untilMs;
  const s = scheduleState(cp.schedules, nowMs);
  return s.inside ? Math.min(cp.untilMs, s.endMs) : nowMs;
}

function allow(user: User, server: Server, valid: CompiledPolicy[], nowMs: number): Allow {
  let best = valid[0];
  let untilMs = effectiveUntil(best, nowMs);
  let forwarding = false;
  let anyLogin = false;
  const logins = new Set<string>();
  for (const cp of valid) {
    if (morePermissive(cp, best)) best = cp;
    const until = effectiveUntil(cp, nowMs);
    if (until > untilMs) untilMs = until;
    forwarding ||= cp.policy.portForwarding;
    if (cp.logins === null) anyLogin = true;
    else for (const login of cp.logins) logins.add(login);
  }
  return {
    allowed: true,
    userId: user.id,
    userName: user.name,
    serverId: server.id,
    serverName: server.name,
    policyId: best.policy.id,
    policyIds: valid.map((cp) => cp.policy.id),
    logins: anyLogin ? [] : [...logins].sort(),
    portForwarding: forwarding,
    validUntil: new Date(untilMs),
    requireMfa: user.mfaRequired === true || server.requireMfa === true ||
      valid.some((cp) => cp.policy.requireMfa === true),
  };
}

/** decide() plus the per-policy verdicts behind it (for `access check` and audit detail). */
export function explainDecision(
  snapshot: Snapshot,
  request: AccessRequest,
  now: Date,
  opts: DecideOptions = {},
): Explanation {
  const nowMs = checkedTime(now);
  const deny = (reason: DenyReason, detail: string, extra: Partial<Deny> = {}): Explanation => ({
    decision: { allowed: false, reason, detail, policyIds: [], ...extra },
    evaluations: [],
  });

  let user: User;
  if (opts.userId !== undefined) {
    const known = snapshot.users.get(opts.userId);
    if (!known) return deny("unknown_source_ip", `no user with id ${opts.userId}`);
    user = known;
  } else {
    const source = identifySource(snapshot, request.sourceIp, opts);
    if (source.kind === "unknown") return deny("unknown_source_ip", source.detail);
    if (source.kind === "ambiguous") {
      return deny("unknown_source_ip", describeAmbiguity(request.sourceIp, source, opts.userName));
    }
    user = source.user;
  }
  const who = { userId: user.id, userName: user.name };
  if (!user.active) return deny("user_inactive", `user ${user.name} (id ${user.id}) is inactive`, who);

  const target = resolveServer(snapshot, request.serverId, request.serverName);
  if (target.kind === "unknown") return deny("unknown_server", target.detail, who);
  const server = target.server;
  const whoWhere = { ...who, serverId: server.id, serverName: server.name };
  if (!server.active) {
    return deny("server_inactive", `server ${server.name} (id ${server.id}) is inactive`, whoWhere);
  }
  if (!server.protocols.includes(request.protocol)) {
    const enabled = server.protocols.join(", ") || "none";
    return deny(
      "protocol_not_enabled",
      `server ${server.name} does not offer ${request.protocol} (enabled: ${enabled})`,
      whoWhere,
    );
  }

  const applicable = applicablePolicies(snapshot, user, server);
  if (applicable.length === 0) {
    return deny(
      "no_policy",
      `no policy grants ${user.name} (directly or via a group) access to ${server.name}`,
      whoWhere,
    );
  }

  const valid: CompiledPolicy[] = [];
  const verdicts: PolicyVerdict[] = [];
  for (const cp of applicable) {
    const verdict = policyVerdict(cp, request.protocol, request.login, nowMs);
    verdicts.push(verdict);
    if (verdict === "valid") valid.push(cp);
  }
  const evaluations = applicable.map((cp, i) => ({
    policyId: cp.policy.id,
    verdict: verdicts[i],
    get text() {
      return describePolicy(cp, verdicts[i]);
    },
  }));
  if (valid.length > 0) return { decision: allow(user, server, valid, nowMs), evaluations };

  const reason = POLICY_DENY_PRECEDENCE.find((r) => verdicts.includes(r))!;
  const closest = applicable.filter((_, i) => verdicts[i] === reason).map((cp) => cp.policy.id);
  const listed = evaluations.slice(0, MAX_DETAIL_POLICIES).map((e) => e.text);
  if (evaluations.length > MAX_DETAIL_POLICIES) {
    listed.push(`… and ${evaluations.length - MAX_DETAIL_POLICIES} more`);
  }
  const wants = `${user.name} → ${server.name} over ${request.protocol}` +
    (request.login === undefined ? "" : ` as ${JSON.stringify(request.login)}`);
  const detail = `no valid policy for ${wants}: ${listed.join("; ")}`;
  return {
    decision: { allowed: false, reason, detail, policyIds: closest, ...whoWhere },
    evaluations,
  };
}

/**
 * Decide one access request at time `now`.
 *
 * Several valid policies: `logins` is their union (empty = any), `portForwarding` is true if any of
 * them allows it, `validUntil` is the latest expiry, and `policyId` the most permissive one with
 * the latest expiry. With a login given, only policies allowing that login count, so `validUntil`
 * is the end of access *as that login*; with the login unknown (RDP, SSH before auth) re-decide
 * once it is known. Forwarding granted by a shorter policy can lapse before `validUntil`: proxies
 * re-run decide() (microseconds) on each forwarding request rather than caching the flag.
 *
 * Throws PolicyInputError("invalid_time") only for an invalid `now` (a caller bug); every bad
 * request field becomes a Deny.
 */
export function decide(
  snapshot: Snapshot,
  request: AccessRequest,
  now: Date,
  opts: DecideOptions = {},
): Decision {
  return explainDecision(snapshot, request, now, opts).decision;
}
