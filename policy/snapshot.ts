// Compile users, servers and policies once into lookup structures, so decide() is a handful of
// Map probes. A snapshot is immutable; rebuild it when `policy_changed` is notified. Input is
// validated here: a snapshot is built from consistent rows or not at all (the caller keeps the
// previous one and logs the PolicyInputError), because skipping a bad source CIDR could silently
// attribute that address to another user with a wider CIDR.

import { formatCidr, normalizeIp, parseCidr } from "./cidr.ts";
import { PolicyInputError } from "./errors.ts";
import type { Policy, Server, User } from "./model.ts";
import { PrefixTable } from "./prefix_table.ts";
import type { WeeklyWindow } from "./schedule.ts";

/** A policy with its dates and logins pre-digested for the hot path. */
export interface CompiledPolicy {
  policy: Policy;
  fromMs: number;
  untilMs: number;
  /** any non-null revokedAt counts, even one "in the future" by this clock (appliances may skew) */
  revoked: boolean;
  /** null = any login */
  logins: ReadonlySet<string> | null;
  /** weekly windows; null = any time between the dates */
  schedules: readonly WeeklyWindow[] | null;
}

/** Policies of one subject (a user or a user group), by what they grant access to. */
export interface ScopeIndex {
  byServer: Map<number, CompiledPolicy[]>;
  byServerGroup: Map<number, CompiledPolicy[]>;
}

/** Everyone who claimed one exact source CIDR. More than one user = ambiguous without a hint. */
export interface SourceEntry {
  cidr: string;
  users: User[];
}

export interface Snapshot {
  readonly users: ReadonlyMap<number, User>;
  readonly usersByName: ReadonlyMap<string, User>;
  readonly servers: ReadonlyMap<number, Server>;
  readonly serversByName: ReadonlyMap<string, Server>;
  /** keyed by normalised pool IP text */
  readonly serversByPoolIp: ReadonlyMap<string, Server>;
  readonly serversByRdpPort: ReadonlyMap<number, Server>;
  readonly policies: ReadonlyMap<number, CompiledPolicy>;
  readonly sources: PrefixTable<SourceEntry>;
  readonly policiesByUser: ReadonlyMap<number, ScopeIndex>;
  readonly policiesByUserGroup: ReadonlyMap<number, ScopeIndex>;
  readonly serverGroupMembers: ReadonlyMap<number, readonly Server[]>;
  readonly userGroupMembers: ReadonlyMap<number, readonly User[]>;
  /** suspicious but tolerated input (e.g. one CIDR claimed by several users, not all marked shared) */
  readonly warnings: readonly string[];
}

export interface SnapshotInput {
  users: User[];
  servers: Server[];
  policies: Policy[];
}

function uniqueById<T extends { id: number }>(rows: T[], what: string): Map<number, T> {
  const map = new Map<number, T>();
  for (const row of rows) {
    if (map.has(row.id)) throw new PolicyInputError("duplicate_id", `duplicate ${what} id ${row.id}`);
    map.set(row.id, row);
  }
  return map;
}

function timeMs(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new PolicyInputError("invalid_time", `${what} is not a valid date`);
  return ms;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexSources(users: Iterable<User>, warnings: string[]): PrefixTable<SourceEntry> {
  const sources = new PrefixTable<SourceEntry>();
  const claims = new Map<SourceEntry, { shared: boolean }>();
  for (const user of users) {
    for (const source of user.sourceCidrs) {
      let cidr;
      try {
        cidr = parseCidr(source.cidr);
      } catch (e) {
        if (!(e instanceof PolicyInputError)) throw e;
        throw new PolicyInputError(e.code, `user ${user.name} (id ${user.id}): ${e.message}`);
      }
      const text = formatCidr(cidr);
      const entry = sources.getOrInsert(cidr, () => ({ cidr: text, users: [] }));
      if (entry.users.includes(user)) continue; // same CIDR listed twice by one user
      entry.users.push(user);
      const claim = claims.get(entry);
      if (claim) claim.shared &&= source.shared;
      else claims.set(entry, { shared: source.shared });
    }
  }
  for (const [entry, claim] of claims) {
    if (entry.users.length > 1 && !claim.shared) {
      const names = entry.users.map((u) => u.name).join(", ");
      warnings.push(`source CIDR ${entry.cidr} is claimed by ${names} but not marked shared by all`);
    }
  }
  return sources;
}

function indexServers(servers: Iterable<Server>) {
  const byName = new Map<string, Server>();
  const byPoolIp = new Map<string, Server>();
  const byRdpPort = new Map<number, Server>();
  const groupMembers = new Map<number, Server[]>();
  for (const server of servers) {
    if (byName.has(server.name)) {
      throw new PolicyInputError(
        "duplicate_server_name",
        `duplicate server name ${JSON.stringify(server.name)}`,
      );
    }
    byName.set(server.name, server);
    if (server.poolIp !== null) {
      let ip;
      try {
        ip = normalizeIp(server.poolIp);
      } catch (e) {
        if (!(e instanceof PolicyInputError)) throw e;
        throw new PolicyInputError(e.code, `server ${server.name}: ${e.message}`);
      }
      const other = byPoolIp.get(ip);
      if (other) {
        throw new PolicyInputError(
          "duplicate_pool_ip",
          `servers ${other.name} and ${server.name} share pool IP ${ip}`,
        );
      }
      byPoolIp.set(ip, server);
    }
    if (server.rdpListenPort !== null) {
      const other = byRdpPort.get(server.rdpListenPort);
      if (other) {
        throw new PolicyInputError(
          "duplicate_rdp_listen_port",
          `servers ${other.name} and ${server.name} share RDP listen port ${server.rdpListenPort}`,
        );
      }
      byRdpPort.set(server.rdpListenPort, server);
    }
    for (const groupId of new Set(server.groupIds)) pushTo(groupMembers, groupId, server);
  }
  return { byName, byPoolIp, byRdpPort, groupMembers };
}

function compilePolicy(policy: Policy): CompiledPolicy {
  const what = `policy ${policy.id}`;
  return {
    policy,
    fromMs: timeMs(policy.validFrom, `${what} validFrom`),
    untilMs: timeMs(policy.validUntil, `${what} validUntil`),
    revoked: policy.revokedAt !== null && policy.revokedAt !== undefined,
    logins: policy.logins.length === 0 ? null : new Set(policy.logins),
    schedules: policy.schedules?.length ? policy.schedules : null,
  };
}

function scopeIndexFor(map: Map<number, ScopeIndex>, key: number): ScopeIndex {
  let index = map.get(key);
  if (!index) {
    index = { byServer: new Map(), byServerGroup: new Map() };
    map.set(key, index);
  }
  return index;
}

/** Compile rows into a snapshot. Throws PolicyInputError on malformed or conflicting rows. */
export function buildSnapshot({ users, servers, policies }: SnapshotInput): Snapshot {
  const warnings: string[] = [];
  const userMap = uniqueById(users, "user");
  const serverMap = uniqueById(servers, "server");
  const usersByName = new Map<string, User>();
  const userGroupMembers = new Map<number, User[]>();
  for (const user of userMap.values()) {
    if (usersByName.has(user.name)) warnings.push(`duplicate user name ${JSON.stringify(user.name)}`);
    else usersByName.set(user.name, user);
    for (const groupId of new Set(user.groupIds)) pushTo(userGroupMembers, groupId, user);
  }
  const serverIndex = indexServers(serverMap.values());
  const sources = indexSources(userMap.values(), warnings);

  const compiled = new Map<number, CompiledPolicy>();
  const byUser = new Map<number, ScopeIndex>();
  const byUserGroup = new Map<number, ScopeIndex>();
  for (const policy of policies) {
    if (compiled.has(policy.id)) {
      throw new PolicyInputError("duplicate_id", `duplicate policy id ${policy.id}`);
    }
    const cp = compilePolicy(policy);
    compiled.set(policy.id, cp);
    const { subject, scope } = policy;
    const index = subject.kind === "user"
      ? scopeIndexFor(byUser, subject.userId)
      : scopeIndexFor(byUserGroup, subject.userGroupId);
    if (scope.kind === "server") pushTo(index.byServer, scope.serverId, cp);
    else pushTo(index.byServerGroup, scope.serverGroupId, cp);
    if (subject.kind === "user" && !userMap.has(subject.userId)) {
      warnings.push(`policy ${policy.id} names unknown user id ${subject.userId}`);
    }
    if (scope.kind === "server" && !serverMap.has(scope.serverId)) {
      warnings.push(`policy ${policy.id} names unknown server id ${scope.serverId}`);
    }
  }

  return {
    users: userMap,
    usersByName,
    servers: serverMap,
    serversByName: serverIndex.byName,
    serversByPoolIp: serverIndex.byPoolIp,
    serversByRdpPort: serverIndex.byRdpPort,
    policies: compiled,
    sources,
    policiesByUser: byUser,
    policiesByUserGroup: byUserGroup,
    serverGroupMembers: serverIndex.groupMembers,
    userGroupMembers,
    warnings,
  };
}
