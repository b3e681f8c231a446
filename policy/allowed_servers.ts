// Which servers may this source reach now? Used by the proxies to route a connection that names
// no server (e.g. an RDP client without a routing token) to "the only server the policies allow".

import { checkedTime, policyVerdict } from "./decide.ts";
import { type IdentifyOptions, identifySource } from "./lookup.ts";
import type { Protocol, Server } from "./model.ts";
import type { CompiledPolicy, Snapshot } from "./snapshot.ts";

/**
 * Active servers offering `protocol` that some currently valid policy of the user identified by
 * `sourceIp` grants for `protocol` (logins are not considered: they are not known at routing
 * time). Empty when the source is unknown, ambiguous, or the user is inactive. Sorted by name.
 */
export function serversAllowedFor(
  snapshot: Snapshot,
  sourceIp: string,
  protocol: Protocol,
  now: Date,
  opts: IdentifyOptions = {},
): Server[] {
  const nowMs = checkedTime(now);
  const match = identifySource(snapshot, sourceIp, opts);
  if (match.kind !== "user" || !match.user.active) return [];
  const user = match.user;
  const live = (list: CompiledPolicy[]) =>
    list.some((cp) => policyVerdict(cp, protocol, undefined, nowMs) === "valid");

  const found = new Map<number, Server>();
  const indexes = [snapshot.policiesByUser.get(user.id)];
  for (const groupId of user.groupIds) indexes.push(snapshot.policiesByUserGroup.get(groupId));
  for (const index of indexes) {
    if (!index) continue;
    for (const [serverId, list] of index.byServer) {
      const server = snapshot.servers.get(serverId);
      if (server && live(list)) found.set(server.id, server);
    }
    for (const [groupId, list] of index.byServerGroup) {
      if (!live(list)) continue;
      for (const server of snapshot.serverGroupMembers.get(groupId) ?? []) found.set(server.id, server);
    }
  }
  return [...found.values()]
    .filter((s) => s.active && s.protocols.includes(protocol))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
}
