// Which server a new RDP connection means and whether it may have it (pure). The target is the pool IP
// the client dialled, else the dedicated listener port it dialled; the mstshash cookie is only a
// hint (it picks among users sharing a source CIDR, never overrides an unambiguous match).
import {
  type Allow,
  decide,
  findServerByPoolIp,
  findServerByRdpPort,
  type Server,
  type Snapshot,
} from "../../policy/mod.ts";

export interface AdmissionRequest {
  sourceIp: string;
  localAddress: string;
  localPort: number;
  cookie: string | null;
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
  const d = decide(
    snapshot,
    { sourceIp: req.sourceIp, protocol: "rdp", serverId: server.id },
    now,
    req.cookie ? { userName: req.cookie } : {},
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
