// Pure: where a user who passed the first factor goes, and whether they may. The route (identify.ts) and
// then decide(); a denial an access request can cure becomes an offer, for a user who proved a key or a
// password (never one known by address alone); a user who named no server and logged in under their own
// name reaches the jump's own commands (jump_session.ts). Also which methods to offer a source's users.
import { type Allow, decide, type Server, type Snapshot, type User } from "../../policy/mod.ts";
import { chooseRoute, parseUsername, type Route } from "./identify.ts";

/**
 * Denials an access request can cure: no grant, or none for this login, protocol or time. Also a server the
 * user named that does not exist (or is off), so the offer tells nobody which servers exist.
 */
export const REQUESTABLE: ReadonlySet<string> = new Set([
  "no_policy",
  "expired",
  "revoked",
  "not_yet_valid",
  "wrong_protocol",
  "login_not_allowed",
  "outside_schedule",
  "unknown_server",
  "server_inactive",
  "protocol_not_enabled",
]);

/** What an audit row of a denial names besides the reason. */
export interface DenialFacts {
  server?: string;
  login?: string;
  policyIds?: number[];
  route?: string;
}

export type AuthOutcome =
  /** no grant (yet): an access request is offered for this server and login */
  | { kind: "offer"; serverName: string; login: string; reason: string; detail: string; facts: DenialFacts }
  /** logged in as themselves without naming a server: the jump's own commands */
  | { kind: "jump_user"; reason: string; detail: string }
  /** which text the client is shown: ask which server, an unknown server, or the plain denial */
  | {
    kind: "deny";
    reason: string;
    detail: string;
    text: "which_server" | "unknown_server" | "denied";
    facts: DenialFacts;
  }
  | { kind: "allow"; route: Extract<Route, { ok: true }>; decision: Allow };

export interface AuthRequest {
  /** the SSH user name as typed (login@server, or a login on a pool IP) */
  username: string;
  localIp: string;
  sourceIp: string;
  user: User;
  /** an access request may be offered (the user proved a key or password, and none was approved yet) */
  canAsk: boolean;
}

/** `timed` wraps the decision (worker metrics time it); the default just runs it. */
export function authDecision(
  snap: Snapshot,
  r: AuthRequest,
  now: Date,
  timed: (f: () => ReturnType<typeof decide>) => ReturnType<typeof decide> = (f) => f(),
): AuthOutcome {
  const route = chooseRoute(snap, {
    username: r.username,
    localIp: r.localIp,
    sourceIp: r.sourceIp,
    userName: r.user.name,
  }, now);
  if (!route.ok) {
    const { reason, detail } = route;
    if (reason === "unknown_server" && r.canAsk) {
      const parsed = parseUsername(r.username);
      return {
        kind: "offer",
        serverName: parsed.serverName!,
        login: parsed.login,
        reason,
        detail,
        facts: {},
      };
    }
    const noServer = reason === "no_server" || reason === "ambiguous";
    if (noServer && r.canAsk && r.username === r.user.name) return { kind: "jump_user", reason, detail };
    return { kind: "deny", reason, detail, text: noServer ? "which_server" : "unknown_server", facts: {} };
  }
  const decision = timed(() =>
    decide(
      snap,
      { sourceIp: r.sourceIp, protocol: "ssh", serverId: route.server.id, login: route.login },
      now,
      { userName: r.user.name },
    )
  );
  if (decision.allowed) return { kind: "allow", route, decision };
  const facts = {
    server: route.server.name,
    login: route.login,
    policyIds: decision.policyIds,
    route: route.how,
  };
  const { reason, detail } = decision;
  if (r.canAsk && REQUESTABLE.has(reason)) {
    return { kind: "offer", serverName: route.server.name, login: route.login, reason, detail, facts };
  }
  return { kind: "deny", reason, detail, text: "denied", facts };
}

/** Which setting demanded the second factor (for the audit detail). */
export function mfaDemandedBy(user: User, server: Server): string {
  if (user.mfaRequired) return "the user's mfa_required";
  if (server.requireMfa) return `server ${server.name} requires MFA`;
  return "the grant requires MFA";
}

/** A user who can prove who they are: a password or a registered key. */
export function hasCredentials(u: User): boolean {
  return u.hasPassword || u.sshKeyFingerprints.length > 0;
}

/** Methods to offer: what some candidate can prove (an IP-only user may use any). */
export function methodsFor(candidates: User[]): string[] {
  const ipOnly = candidates.length === 1 && !hasCredentials(candidates[0]);
  const out: string[] = [];
  if (ipOnly || candidates.some((u) => u.sshKeyFingerprints.length > 0)) out.push("publickey");
  if (ipOnly || candidates.some((u) => u.hasPassword)) out.push("password", "keyboard-interactive");
  return out;
}
