// Which server a new RDP connection means and whether it may have it (pure). The target is the pool IP
// the client dialled, else the dedicated listener port it dialled. The user is the one the source address
// identifies, or the one NLA proved, who must be among the source's users. The mstshash cookie is written
// freely by the client and never picks a user: a shared source without NLA is denied.
import {
  type Allow,
  decide,
  describeAmbiguity,
  findServerByPoolIp,
  findServerByRdpPort,
  identifySource,
  type Server,
  type Snapshot,
} from "../../policy/mod.ts";

export interface AdmissionRequest {
  sourceIp: string;
  localAddress: string;
  localPort: number;
  /** The jump user NLA proved (the password checked), or null for a TLS-only client. */
  provenUser?: string | null;
  /** The backend login the connection will use, when known (the policy's login list applies). */
  login?: string;
}

export type Admission =
  | { allowed: true; server: Server; decision: Allow }
  | {
    allowed: false;
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
  const proven = req.provenUser ?? null;
  if (proven !== null) {
    const source = identifySource(snapshot, req.sourceIp, { userName: proven });
    const owner = source.kind === "user" ? source.user.name : null;
    if (source.kind !== "unknown" && owner !== proven) {
      // bob proved bob, but connects from alice's address (or a shared one bob is not in)
      return {
        allowed: false,
        reason: "unknown_source_ip",
        detail: source.kind === "user"
          ? `source ${req.sourceIp} belongs to ${owner}, not to ${proven} (proven by NLA)`
          : describeAmbiguity(req.sourceIp, source, proven),
        server,
        userName: proven,
        policyIds: [],
      };
    }
  }
  const d = decide(
    snapshot,
    { sourceIp: req.sourceIp, protocol: "rdp", serverId: server.id, login: req.login },
    now,
    proven !== null ? { userName: proven } : {},
  );
  if (d.allowed) return { allowed: true, server, decision: d };
  return {
    allowed: false,
    reason: d.reason,
    detail: d.detail,
    server,
    userName: d.userName,
    policyIds: d.policyIds,
  };
}
