// Who is calling and which server do they mean: pure lookups over a snapshot, shared by decide()
// and by the proxies (pool-IP and RDP-port routing).

import { formatIp, tryParseIp } from "./cidr.ts";
import type { Server, User } from "./model.ts";
import type { Snapshot } from "./snapshot.ts";

export interface IdentifyOptions {
  /**
   * Name of the jumphost user the client claims to be. Only consulted when the most specific
   * matching source CIDR is shared by several users; it never overrides an unambiguous match.
   */
  userName?: string;
}

export type SourceMatch =
  | { kind: "user"; user: User; cidr: string }
  | { kind: "ambiguous"; users: User[]; cidr: string }
  | { kind: "unknown"; detail: string };

/**
 * Identify the user behind a source IP. The longest matching prefix wins, regardless of whether
 * its user is active (a deactivated user's /32 must not fall through to a colleague's /24).
 */
export function identifySource(snapshot: Snapshot, ip: string, opts: IdentifyOptions = {}): SourceMatch {
  const addr = tryParseIp(ip);
  if (!addr) return { kind: "unknown", detail: `source ${JSON.stringify(ip)} is not a valid IP address` };
  const hit = snapshot.sources.lookup(addr);
  if (!hit) return { kind: "unknown", detail: `source ${ip} matches no user's source CIDR` };
  const { users, cidr } = hit.value;
  if (users.length === 1) return { kind: "user", user: users[0], cidr };
  if (opts.userName !== undefined) {
    const named = users.filter((u) => u.name === opts.userName);
    if (named.length === 1) return { kind: "user", user: named[0], cidr };
  }
  return { kind: "ambiguous", users, cidr };
}

export function describeAmbiguity(ip: string, match: { users: User[]; cidr: string }, hint?: string): string {
  const names = match.users.map((u) => u.name).sort().join(", ");
  const why = hint === undefined ? "no user name given" : `${JSON.stringify(hint)} is none of them`;
  return `source ${ip} matches shared CIDR ${match.cidr} of users ${names}; ${why}`;
}

/**
 * Whether a source address falls in some user's source CIDR: such a caller may be someone who can log in,
 * and gets setup slots an anonymous flood cannot take (proxy/ssh/setup_guard.ts).
 */
export function isKnownSource(snapshot: Snapshot | null, ip: string): boolean {
  const addr = snapshot ? tryParseIp(ip) : null;
  return addr !== null && snapshot!.sources.lookup(addr) !== undefined;
}

/** The user a source IP identifies, or undefined when unknown or ambiguous. */
export function findUserBySourceIp(
  snapshot: Snapshot,
  ip: string,
  opts: IdentifyOptions = {},
): User | undefined {
  const match = identifySource(snapshot, ip, opts);
  return match.kind === "user" ? match.user : undefined;
}

/** The server whose pool IP a client connected to (any spelling, IPv4-mapped included). */
export function findServerByPoolIp(snapshot: Snapshot, ip: string): Server | undefined {
  const addr = tryParseIp(ip);
  return addr ? snapshot.serversByPoolIp.get(formatIp(addr)) : undefined;
}

/** The server behind a dedicated RDP listener port on the appliance. */
export function findServerByRdpPort(snapshot: Snapshot, port: number): Server | undefined {
  return snapshot.serversByRdpPort.get(port);
}

export type ServerMatch = { kind: "server"; server: Server } | { kind: "unknown"; detail: string };

/** Resolve the request's server by id and/or name; both given must agree. */
export function resolveServer(snapshot: Snapshot, serverId?: number, serverName?: string): ServerMatch {
  if (serverId === undefined && serverName === undefined) {
    return { kind: "unknown", detail: "request names no server" };
  }
  const byId = serverId === undefined ? undefined : snapshot.servers.get(serverId);
  const byName = serverName === undefined ? undefined : snapshot.serversByName.get(serverName);
  if (serverId !== undefined && !byId) return { kind: "unknown", detail: `no server with id ${serverId}` };
  if (serverName !== undefined && !byName) {
    return { kind: "unknown", detail: `no server named ${JSON.stringify(serverName)}` };
  }
  if (byId && byName && byId !== byName) {
    return {
      kind: "unknown",
      detail: `server id ${serverId} is ${byId.name}, not ${JSON.stringify(serverName)}`,
    };
  }
  return { kind: "server", server: (byId ?? byName)! };
}
