// Deterministic synthetic access model and request stream for the policy benchmark.

import {
  type AccessRequest,
  type DecideOptions,
  formatIp,
  type Policy,
  type Protocol,
  type Server,
  type User,
} from "../../policy/mod.ts";

export const SIZES = { users: 10_000, userGroups: 200, servers: 1_000, serverGroups: 50, policies: 100_000 };
const LOGINS = ["root", "deploy", "app", "admin", "backup", "postgres", "www-data"];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const V4 = (a: number, b: number, c: number, d: number) =>
  BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);

/** mulberry32: small, fast, good enough for workload generation. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface World {
  users: User[];
  servers: Server[];
  policies: Policy[];
  serverGroups: number;
  primaryIp: Map<number, bigint>;
  directPolicies: Map<number, Policy[]>;
  groupMembers: Map<number, Server[]>;
}

export function generateWorld(seed: number, now: Date): World {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n); // 0..n-1
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const nowMs = now.getTime();

  const users: User[] = [];
  const primaryIp = new Map<number, bigint>();
  for (let id = 1; id <= SIZES.users; id++) {
    const primary = V4(10, 0, 0, 0) + BigInt(id * 2);
    primaryIp.set(id, primary);
    const sourceCidrs = [{ cidr: `${formatIp({ family: 4, value: primary })}/32`, shared: false }];
    const r = rnd();
    if (id <= 200) sourceCidrs.push({ cidr: `192.168.${(id - 1) >> 1}.0/24`, shared: true }); // pairs share
    else if (r < 0.4) {
      sourceCidrs.push({
        cidr: `${formatIp({ family: 4, value: V4(172, 16, 0, 0) + BigInt(id * 16) })}/28`,
        shared: false,
      });
    } else if (r < 0.55) sourceCidrs.push({ cidr: `2001:db8:${id.toString(16)}::/64`, shared: false });
    const groupIds = rnd() < 0.6 ? Array.from({ length: 1 + int(3) }, () => 1 + int(SIZES.userGroups)) : [];
    users.push({
      id,
      name: `user${id}`,
      active: rnd() > 0.02,
      sourceCidrs,
      groupIds,
      hasPassword: false,
      sshKeyFingerprints: [],
    });
  }

  const servers: Server[] = [];
  const groupMembers = new Map<number, Server[]>();
  for (let id = 1; id <= SIZES.servers; id++) {
    const r = rnd();
    const protocols: Protocol[] = r < 0.6 ? ["ssh", "rdp"] : r < 0.85 ? ["ssh"] : ["rdp"];
    const groupIds = [1 + (id % SIZES.serverGroups)];
    if (rnd() < 0.3) groupIds.push(1 + int(SIZES.serverGroups));
    const s: Server = {
      id,
      name: `srv-${String(id).padStart(4, "0")}`,
      address: `127.1.${id >> 8}.${id & 255}`,
      sshPort: 22,
      rdpPort: 3389,
      protocols,
      poolIp: id % 2 ? formatIp({ family: 4, value: V4(10, 200, 0, 0) + BigInt(id) }) : null,
      rdpListenPort: protocols.includes("rdp") && id % 5 === 0 ? 40_000 + id : null,
      rdpSecurity: "any",
      passwordPassthrough: true,
      active: rnd() > 0.03,
      groupIds,
    };
    servers.push(s);
    for (const g of new Set(groupIds)) groupMembers.set(g, [...(groupMembers.get(g) ?? []), s]);
  }

  const policies: Policy[] = [];
  const directPolicies = new Map<number, Policy[]>();
  for (let id = 1; id <= SIZES.policies; id++) {
    const userId = 1 + int(SIZES.users);
    const subject: Policy["subject"] = rnd() < 0.8
      ? { kind: "user", userId }
      : { kind: "user_group", userGroupId: 1 + int(SIZES.userGroups) };
    const scope: Policy["scope"] = rnd() < 0.6
      ? { kind: "server", serverId: 1 + int(SIZES.servers) }
      : { kind: "server_group", serverGroupId: 1 + int(SIZES.serverGroups) };
    const pr = rnd();
    const protocols: Protocol[] = pr < 0.45 ? ["ssh"] : pr < 0.7 ? ["rdp"] : ["ssh", "rdp"];
    const logins = rnd() < 0.5 ? [] : [...new Set(Array.from({ length: 1 + int(3) }, () => pick(LOGINS)))];
    const t = rnd();
    let validFrom = nowMs - int(30) * DAY - HOUR, validUntil = nowMs + HOUR + int(90 * 24) * HOUR;
    let revokedAt: Date | null = null;
    if (t < 0.10) [validFrom, validUntil] = [nowMs - 60 * DAY, nowMs - 1 - int(30 * 24) * HOUR];
    else if (t < 0.15) revokedAt = new Date(nowMs - int(10 * 24) * HOUR);
    else if (t < 0.20) [validFrom, validUntil] = [nowMs + HOUR + int(100) * HOUR, nowMs + 200 * DAY];
    const p: Policy = {
      id,
      subject,
      scope,
      protocols,
      logins,
      portForwarding: rnd() < 0.2,
      validFrom: new Date(validFrom),
      validUntil: new Date(validUntil),
      revokedAt,
    };
    policies.push(p);
    if (subject.kind === "user") directPolicies.set(userId, [...(directPolicies.get(userId) ?? []), p]);
  }
  return {
    users,
    servers,
    policies,
    serverGroups: SIZES.serverGroups,
    primaryIp,
    directPolicies,
    groupMembers,
  };
}

export interface BenchRequest {
  request: AccessRequest;
  opts: DecideOptions;
}

/** A mixed stream: known and unknown sources, targeted and random servers, logins or none. */
export function* requestStream(world: World, seed: number, count: number): Generator<BenchRequest> {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  for (let n = 0; n < count; n++) {
    const r = rnd();
    let sourceIp: string;
    let opts: DecideOptions = {};
    let server = pick(world.servers);
    let logins = LOGINS;
    if (r < 0.08) {
      sourceIp = rnd() < 0.5
        ? `11.${int(256)}.${int(256)}.${int(256)}`
        : `2001:db9::${int(65536).toString(16)}`;
    } else if (r < 0.11) {
      sourceIp = `192.168.${int(100)}.${1 + int(254)}`;
      if (rnd() < 0.5) opts = { userName: `user${1 + int(200)}` };
    } else {
      const user = pick(world.users);
      const second = user.sourceCidrs[1]?.cidr;
      if (second && !user.sourceCidrs[1].shared && rnd() < 0.3) {
        sourceIp = second.includes(":")
          ? second.replace("::/64", `::${(1 + int(65535)).toString(16)}`)
          : second.replace(/\.(\d+)\/28$/, (_, d) => `.${Number(d) + 1 + int(14)}`);
      } else {
        sourceIp = formatIp({ family: 4, value: world.primaryIp.get(user.id)! });
        if (rnd() < 0.05) sourceIp = `::ffff:${sourceIp}`;
      }
      const own = world.directPolicies.get(user.id);
      if (own && rnd() < 0.6) {
        const p = pick(own);
        server = p.scope.kind === "server"
          ? world.servers[p.scope.serverId - 1]
          : pick(world.groupMembers.get(p.scope.serverGroupId) ?? world.servers);
        if (p.logins.length > 0 && rnd() < 0.7) logins = p.logins;
      }
    }
    const protocol: Protocol = rnd() < 0.85 ? pick(server.protocols) : pick(["ssh", "rdp"] as const);
    const request: AccessRequest = {
      sourceIp,
      protocol,
      ...(rnd() < 0.5 ? { serverName: server.name } : { serverId: server.id }),
      ...(rnd() < 0.5 ? {} : { login: pick(logins) }),
    };
    yield { request, opts };
  }
}
