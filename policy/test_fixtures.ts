// Row builders for the policy tests: sensible defaults, override what the case is about.

import type { Policy, Server, User } from "./model.ts";

export const NOW = new Date("2025-06-01T12:00:00.000Z");
export const HOUR = 3_600_000;
export const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);

export function user(id: number, name: string, cidrs: string[], extra: Partial<User> = {}): User {
  return {
    id,
    name,
    active: true,
    sourceCidrs: cidrs.map((cidr) => ({ cidr, shared: false })),
    groupIds: [],
    hasPassword: false,
    sshKeyFingerprints: [],
    ...extra,
  };
}

export function server(id: number, name: string, extra: Partial<Server> = {}): Server {
  return {
    id,
    name,
    address: `127.0.1.${id}`,
    sshPort: 22,
    rdpPort: 3389,
    protocols: ["ssh", "rdp"],
    poolIp: null,
    rdpListenPort: null,
    rdpSecurity: "any",
    passwordPassthrough: true,
    active: true,
    groupIds: [],
    ...extra,
  };
}

/** A policy for user `userId` on server `serverId`, valid from an hour ago to an hour ahead. */
export function policy(id: number, extra: Partial<Policy> = {}): Policy {
  return {
    id,
    subject: { kind: "user", userId: 1 },
    scope: { kind: "server", serverId: 1 },
    protocols: ["ssh", "rdp"],
    logins: [],
    portForwarding: false,
    validFrom: at(-HOUR),
    validUntil: at(HOUR),
    revokedAt: null,
    ...extra,
  };
}
