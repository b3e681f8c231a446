// Which server a new RDP connection means, who is calling, and whether they may have it (pure).
//
// The target is the pool IP the client dialled, else the dedicated listener port it dialled. The user is
// the one proven by NLA (CredSSP at the jump), whose source CIDRs must contain the source address; without
// NLA, the one user whose source CIDR matches. A source shared by several users (a VPN pool, an office
// NAT) without NLA is denied: the mstshash cookie is typed freely by the client (bob could type alice), so
// it never chooses a user; it only appears in the audit detail.
import {
  type Allow,
  cidrContains,
  decide,
  findServerByPoolIp,
  findServerByRdpPort,
  identifySource,
  parseCidr,
  type Server,
  type Snapshot,
  tryParseIp,
  type User,
} from "../../policy/mod.ts";

export interface RdpIdentity {
  /** the jump user NLA authenticated on this connection (exact name), if any */
  provenUser?: string | null;
  /** the mstshash cookie: never trusted, only reported */
  cookie?: string | null;
}

export interface AdmissionRequest extends RdpIdentity {
  sourceIp: string;
  localAddress: string;
  localPort: number;
  cookie: string | null;
  /**
   * The Windows login the session will use, when known before the backend sees credentials (NLA's
   * TSCredentials, the vaulted login chosen, or the Client Info PDU): checked against the grant's logins.
   */
  login?: string;
  /**
   * The connection carries a second factor to check (NLA with a code after the user name): a decision
   * that demands one is then allowed here, and the connection checks the code before the backend.
   */
  secondFactor?: boolean;
}

export type AdmissionDenyReason =
  | "policy_unavailable"
  | "unknown_server"
  | "unknown_source_ip"
  /** several users share the source CIDR and nothing proves which one is calling */
  | "ambiguous_source"
  /** NLA named a user who does not exist (or has been removed since) */
  | "unknown_user"
  /** the NLA-proven user has no source CIDR containing the source address */
  | "source_not_of_user"
  /** the server's rdp_security is nla and the client did not authenticate with NLA */
  | "nla_required";

export type UserAdmission =
  | { ok: true; user: User; proven: boolean }
  | { ok: false; reason: AdmissionDenyReason; detail: string; userName?: string };

export type Admission =
  | { allowed: true; server: Server; decision: Allow; proven: boolean }
  | {
    allowed: false;
    /** an AdmissionDenyReason or a policy DenyReason */
    reason: string;
    detail: string;
    server?: Server;
    userName?: string;
    policyIds: number[];
  };

/** Undo IPv4-mapped IPv6 spelling (::ffff:127.0.0.5) that dual-stack sockets report. */
export function plainIp(ip: string | undefined): string {
  if (!ip) return "";
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

export function routeServer(snapshot: Snapshot, localAddress: string, localPort: number): Server | undefined {
  return findServerByPoolIp(snapshot, localAddress) ?? findServerByRdpPort(snapshot, localPort);
}

function cookieNote(cookie: string | null | undefined): string {
  return cookie
    ? ` (the client's mstshash cookie ${JSON.stringify(cookie)} is not proof and is not used)`
    : "";
}

/** Who is calling from `sourceIp`: the NLA-proven user (checked against their CIDRs) or the source's one user. */
export function admitUser(snapshot: Snapshot, sourceIp: string, id: RdpIdentity = {}): UserAdmission {
  if (id.provenUser != null) {
    const user = snapshot.usersByName.get(id.provenUser);
    if (!user) {
      return { ok: false, reason: "unknown_user", detail: `no jump user ${JSON.stringify(id.provenUser)}` };
    }
    const addr = tryParseIp(sourceIp);
    const inside = addr !== null && user.sourceCidrs.some((c) => {
      try {
        return cidrContains(parseCidr(c.cidr), addr);
      } catch {
        return false;
      }
    });
    if (!inside) {
      return {
        ok: false,
        reason: "source_not_of_user",
        detail: `source ${sourceIp} is in none of ${user.name}'s source CIDRs`,
        userName: user.name,
      };
    }
    return { ok: true, user, proven: true };
  }
  const source = identifySource(snapshot, sourceIp);
  if (source.kind === "unknown") return { ok: false, reason: "unknown_source_ip", detail: source.detail };
  if (source.kind === "ambiguous") {
    const names = source.users.map((u) => u.name).sort().join(", ");
    return {
      ok: false,
      reason: "ambiguous_source",
      detail: `source ${sourceIp} matches shared CIDR ${source.cidr} of users ${names}; ` +
        `only NLA can tell them apart${cookieNote(id.cookie)}`,
    };
  }
  return { ok: true, user: source.user, proven: false };
}

export function admit(snapshot: Snapshot | null, req: AdmissionRequest, now: Date): Admission {
  if (!snapshot) {
    return {
      allowed: false,
      reason: "policy_unavailable",
      detail: "the policy snapshot is stale or missing (database unreachable): failing closed",
      policyIds: [],
    };
  }
  const server = routeServer(snapshot, req.localAddress, req.localPort);
  if (!server) {
    return {
      allowed: false,
      reason: "unknown_server",
      detail: `no server has pool IP ${req.localAddress} or RDP listen port ${req.localPort}`,
      policyIds: [],
    };
  }
  const who = admitUser(snapshot, req.sourceIp, req);
  if (!who.ok) return { allowed: false, ...who, server, policyIds: [] };
  if (server.rdpSecurity === "nla" && !who.proven) {
    return {
      allowed: false,
      reason: "nla_required",
      detail: `server ${server.name} requires NLA; the client did not authenticate with it`,
      server,
      userName: who.user.name,
      policyIds: [],
    };
  }
  const d = decide(
    snapshot,
    { sourceIp: req.sourceIp, protocol: "rdp", serverId: server.id, login: req.login },
    now,
    { userId: who.user.id },
  );
  if (d.allowed && d.requireMfa && !req.secondFactor) {
    // where one is demanded (user, grant or server) a connection that cannot carry a code fails closed
    return {
      allowed: false,
      reason: "mfa_required",
      detail: `a second factor is required for ${d.userName} on ${server.name}; ` +
        (who.proven
          ? "no verification code was given after the user name"
          : "RDP without NLA cannot carry a verification code"),
      server,
      userName: d.userName,
      policyIds: d.policyIds,
    };
  }
  if (d.allowed) return { allowed: true, server, decision: d, proven: who.proven };
  return {
    allowed: false,
    reason: d.reason,
    detail: d.detail,
    server,
    userName: d.userName,
    policyIds: d.policyIds,
  };
}

/**
 * Re-decide a live connection (expiry, revocation, model changes): the same user must still be the one
 * calling (proven user still matching the source, or the source still identifying exactly that user).
 */
export function readmit(
  snapshot: Snapshot,
  c: { sourceIp: string; serverId: number; provenUser: string | null; login: string | null; userId: number },
  now: Date,
): ReturnType<typeof decide> {
  const who = admitUser(snapshot, c.sourceIp, { provenUser: c.provenUser });
  if (!who.ok || who.user.id !== c.userId) {
    return {
      allowed: false,
      reason: "unknown_source_ip",
      detail: who.ok ? `source ${c.sourceIp} now identifies ${who.user.name}` : who.detail,
      policyIds: [],
    };
  }
  return decide(
    snapshot,
    { sourceIp: c.sourceIp, protocol: "rdp", serverId: c.serverId, login: c.login ?? undefined },
    now,
    { userId: c.userId },
  );
}
