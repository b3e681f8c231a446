import assert from "node:assert/strict";
import { decide, explainDecision } from "./decide.ts";
import { PolicyInputError } from "./errors.ts";
import type { AccessRequest, Decision, DenyReason, Policy } from "./model.ts";
import { DENY_REASONS } from "./model.ts";
import { buildSnapshot } from "./snapshot.ts";
import { parseSchedule } from "./schedule.ts";
import { at, HOUR, NOW, policy, server, user } from "./test_fixtures.ts";

// One world for every case; each case brings its own policies.
const USERS = [
  user(1, "alice", ["10.0.0.5/32"], { groupIds: [100] }),
  user(2, "bob", ["10.0.0.0/24"]),
  user(3, "carol", ["10.0.1.7/32"], { active: false }),
  { ...user(4, "dave", []), sourceCidrs: [{ cidr: "192.168.50.0/24", shared: true }] },
  { ...user(5, "erin", []), sourceCidrs: [{ cidr: "192.168.50.0/24", shared: true }] },
  user(6, "frank", ["2001:db8:1::/48"], { groupIds: [100, 101] }),
];
const SERVERS = [
  server(1, "web1", { groupIds: [10] }),
  server(2, "web2", { groupIds: [10] }),
  server(3, "db1", { protocols: ["ssh"], groupIds: [20] }),
  server(4, "old", { active: false }),
  server(5, "win1", { protocols: ["rdp"], groupIds: [20] }),
];

const alice = (extra: Partial<AccessRequest> = {}): AccessRequest => ({
  sourceIp: "10.0.0.5",
  protocol: "ssh",
  serverName: "web1",
  ...extra,
});

interface Case {
  name: string;
  policies?: Policy[];
  request: AccessRequest;
  userName?: string;
  /** a DenyReason, or "allow" */
  expect: DenyReason | "allow";
  /** fields the decision must also have */
  has?: Record<string, unknown>;
  /** substrings of the deny detail */
  detail?: string[];
}

const cases: Case[] = [
  // --- one case per deny reason, in check order ---
  { name: "an unknown source IP", request: alice({ sourceIp: "172.16.0.1" }), expect: "unknown_source_ip" },
  {
    name: "a malformed source IP",
    request: alice({ sourceIp: "10.0.0.5%eth0" }),
    expect: "unknown_source_ip",
    detail: ["not a valid IP"],
  },
  {
    name: "a shared source CIDR without a user name",
    policies: [policy(1, { subject: { kind: "user", userId: 4 } })],
    request: alice({ sourceIp: "192.168.50.20" }),
    expect: "unknown_source_ip",
    detail: ["shared CIDR 192.168.50.0/24", "dave, erin"],
  },
  {
    name: "a shared source CIDR with a user name that is none of its users",
    request: alice({ sourceIp: "192.168.50.20" }),
    userName: "alice",
    expect: "unknown_source_ip",
  },
  {
    name: "an inactive user",
    policies: [policy(1, { subject: { kind: "user", userId: 3 } })],
    request: alice({ sourceIp: "10.0.1.7" }),
    expect: "user_inactive",
    has: { userId: 3, userName: "carol" },
  },
  { name: "an unknown server name", request: alice({ serverName: "nope" }), expect: "unknown_server" },
  {
    name: "an unknown server id",
    request: alice({ serverName: undefined, serverId: 99 }),
    expect: "unknown_server",
  },
  { name: "a request naming no server", request: alice({ serverName: undefined }), expect: "unknown_server" },
  {
    name: "a server id and name that disagree",
    request: alice({ serverId: 2 }),
    expect: "unknown_server",
    detail: ["web2"],
  },
  {
    name: "an inactive server",
    policies: [policy(1, { scope: { kind: "server", serverId: 4 } })],
    request: alice({ serverName: "old" }),
    expect: "server_inactive",
    has: { serverId: 4, userId: 1 },
  },
  {
    name: "a protocol the server does not offer",
    policies: [policy(1, { scope: { kind: "server", serverId: 3 } })],
    request: alice({ serverName: "db1", protocol: "rdp" }),
    expect: "protocol_not_enabled",
  },
  {
    name: "a bogus protocol from untyped input",
    request: alice({ protocol: "telnet" as "ssh" }),
    expect: "protocol_not_enabled",
  },
  {
    name: "a server no policy covers",
    policies: [policy(1, { scope: { kind: "server", serverId: 2 } })],
    request: alice(),
    expect: "no_policy",
    has: { policyIds: [] },
  },
  {
    name: "another user's policy",
    policies: [policy(1, { subject: { kind: "user", userId: 2 } })],
    request: alice(),
    expect: "no_policy",
  },
  {
    name: "a grant that starts later",
    policies: [policy(7, { validFrom: at(HOUR), validUntil: at(2 * HOUR) })],
    request: alice(),
    expect: "not_yet_valid",
    has: { policyIds: [7] },
  },
  {
    name: "an expired grant",
    policies: [policy(7, { validUntil: at(-60_000) })],
    request: alice(),
    expect: "expired",
    has: { policyIds: [7] },
    detail: ["#7", "expired at"],
  },
  {
    name: "a grant ending exactly now",
    policies: [policy(7, { validUntil: NOW })],
    request: alice(),
    expect: "expired",
  },
  {
    name: "a revoked grant",
    policies: [policy(7, { revokedAt: at(-60_000) })],
    request: alice(),
    expect: "revoked",
    has: { policyIds: [7] },
  },
  {
    name: "a grant revoked 'in the future' by a skewed clock",
    policies: [policy(7, { revokedAt: at(60_000) })],
    request: alice(),
    expect: "revoked",
  },
  {
    name: "a grant for another protocol",
    policies: [policy(7, { protocols: ["rdp"] })],
    request: alice(),
    expect: "wrong_protocol",
    detail: ["grants rdp only"],
  },
  {
    name: "a login outside the grant",
    policies: [policy(7, { logins: ["deploy"] })],
    request: alice({ login: "root" }),
    expect: "login_not_allowed",
    detail: ['as "root"', "allows logins deploy only"],
  },

  // --- precedence when several policies fail differently ---
  {
    name: "revoked + expired as expired",
    policies: [policy(1, { revokedAt: at(-HOUR) }), policy(2, { validUntil: at(-1) })],
    request: alice(),
    expect: "expired",
    has: { policyIds: [2] },
    detail: ["#1", "revoked", "#2", "expired"],
  },
  {
    name: "expired + not yet valid as not_yet_valid",
    policies: [
      policy(1, { validUntil: at(-1) }),
      policy(2, { validFrom: at(HOUR), validUntil: at(2 * HOUR) }),
    ],
    request: alice(),
    expect: "not_yet_valid",
    has: { policyIds: [2] },
  },
  {
    name: "expired + wrong protocol as wrong_protocol",
    policies: [policy(1, { validUntil: at(-1) }), policy(2, { protocols: ["rdp"] })],
    request: alice(),
    expect: "wrong_protocol",
  },
  {
    name: "revoked + wrong protocol + wrong login as login_not_allowed",
    policies: [
      policy(1, { revokedAt: at(-1) }),
      policy(2, { protocols: ["rdp"] }),
      policy(3, { logins: ["deploy"] }),
      policy(4, { logins: ["backup"] }),
    ],
    request: alice({ login: "root" }),
    expect: "login_not_allowed",
    has: { policyIds: [3, 4] },
  },
  {
    name: "a revoked and expired policy as revoked (revocation checked first)",
    policies: [policy(1, { revokedAt: at(-1), validUntil: at(-1) })],
    request: alice(),
    expect: "revoked",
  },

  // --- allows and identification ---
  {
    name: "a valid direct grant",
    policies: [policy(1)],
    request: alice(),
    expect: "allow",
    has: { policyId: 1 },
  },
  {
    name: "a grant starting exactly now",
    policies: [policy(1, { validFrom: NOW })],
    request: alice(),
    expect: "allow",
  },
  {
    name: "an IPv4-mapped IPv6 source",
    policies: [policy(1)],
    request: alice({ sourceIp: "::ffff:10.0.0.5" }),
    expect: "allow",
    has: { userName: "alice" },
  },
  {
    name: "the longest prefix: alice's /32 inside bob's /24",
    policies: [policy(1, { subject: { kind: "user", userId: 2 } })],
    request: alice(),
    expect: "no_policy",
    has: { userName: "alice" },
  },
  {
    name: "bob elsewhere in his /24",
    policies: [policy(1, { subject: { kind: "user", userId: 2 } })],
    request: alice({ sourceIp: "10.0.0.6" }),
    expect: "allow",
    has: { userName: "bob" },
  },
  {
    name: "a shared source CIDR with a user name hint",
    policies: [policy(1, { subject: { kind: "user", userId: 4 } })],
    request: alice({ sourceIp: "192.168.50.20" }),
    userName: "dave",
    expect: "allow",
    has: { userId: 4 },
  },
  {
    name: "a user-group subject on a server",
    policies: [policy(1, { subject: { kind: "user_group", userGroupId: 100 } })],
    request: alice(),
    expect: "allow",
  },
  {
    name: "a user subject on a server group",
    policies: [policy(1, { scope: { kind: "server_group", serverGroupId: 10 } })],
    request: alice({ serverName: "web2" }),
    expect: "allow",
    has: { serverId: 2 },
  },
  {
    name: "a user group on a server group, from IPv6",
    policies: [policy(1, {
      subject: { kind: "user_group", userGroupId: 101 },
      scope: { kind: "server_group", serverGroupId: 20 },
    })],
    request: { sourceIp: "2001:db8:1::42", protocol: "rdp", serverId: 5 },
    expect: "allow",
    has: { userName: "frank", serverName: "win1" },
  },
  {
    name: "a user outside the policy's user group",
    policies: [policy(1, { subject: { kind: "user_group", userGroupId: 100 } })],
    request: alice({ sourceIp: "10.0.0.6" }),
    expect: "no_policy",
  },
  {
    name: "a server outside the policy's server group",
    policies: [policy(1, { scope: { kind: "server_group", serverGroupId: 10 } })],
    request: alice({ serverName: "db1" }),
    expect: "no_policy",
  },
  {
    name: "an unknown login against a login-restricted grant",
    policies: [policy(1, { logins: ["deploy", "app"] })],
    request: alice(),
    expect: "allow",
    has: { logins: ["app", "deploy"] },
  },
  {
    name: "an allowed login",
    policies: [policy(1, { logins: ["deploy", "app"] })],
    request: alice({ login: "app" }),
    expect: "allow",
  },
  {
    name: "a valid grant despite expired and revoked ones",
    policies: [policy(1, { validUntil: at(-1) }), policy(2), policy(3, { revokedAt: at(-1) })],
    request: alice(),
    expect: "allow",
    has: { policyId: 2, policyIds: [2] },
  },
  // NOW is Sunday 2025-06-01 12:00 UTC (14:00 in Berlin)
  {
    name: "a grant outside its weekly window",
    policies: [policy(1, { schedules: [parseSchedule("Mon-Fri 08:00-18:00 Europe/Berlin")] })],
    request: alice(),
    expect: "outside_schedule",
    detail: ["Mon,Tue,Wed,Thu,Fri 08:00-18:00 Europe/Berlin"],
  },
  {
    name: "a grant inside its window, valid until the window ends (sooner than the grant)",
    policies: [policy(1, { schedules: [parseSchedule("Sat,Sun 10:00-14:30 Europe/Berlin")] })],
    request: alice(),
    expect: "allow",
    has: { validUntil: new Date("2025-06-01T12:30:00Z") },
  },
  {
    name: "a grant whose window outlasts it, valid until the grant ends",
    policies: [policy(1, { schedules: [parseSchedule("Sun 00:00-24:00 UTC")] })],
    request: alice(),
    expect: "allow",
    has: { validUntil: at(HOUR) },
  },
  {
    name: "an unscheduled grant besides one outside its window",
    policies: [policy(1, { schedules: [parseSchedule("Mon 08:00-09:00 UTC")] }), policy(2)],
    request: alice(),
    expect: "allow",
    has: { policyIds: [2] },
  },
];

for (const c of cases) {
  const verb = c.expect === "allow" ? "allows" : "denies";
  Deno.test(`decide() ${verb} ${c.name}`, () => {
    const snap = buildSnapshot({ users: USERS, servers: SERVERS, policies: c.policies ?? [] });
    const d: Decision = decide(snap, c.request, NOW, { userName: c.userName });
    if (c.expect === "allow") assert.equal(d.allowed, true, d.allowed ? "" : `${d.reason}: ${d.detail}`);
    else {
      assert.equal(d.allowed, false);
      if (!d.allowed) {
        assert.equal(d.reason, c.expect, d.detail);
        assert.ok(d.detail.length > 0);
        for (const part of c.detail ?? []) {
          assert.ok(d.detail.includes(part), `${JSON.stringify(part)} in ${d.detail}`);
        }
      }
    }
    for (const [key, value] of Object.entries(c.has ?? {})) {
      assert.deepEqual((d as unknown as Record<string, unknown>)[key], value, key);
    }
  });
}

Deno.test("decide() table covers every DenyReason", () => {
  const covered = new Set(cases.map((c) => c.expect));
  for (const reason of DENY_REASONS) assert.ok(covered.has(reason), reason);
});

Deno.test("decide() throws a typed error for an invalid clock value", () => {
  const snap = buildSnapshot({ users: USERS, servers: SERVERS, policies: [policy(1)] });
  assert.throws(
    () => decide(snap, alice(), new Date("nonsense")),
    (e) => e instanceof PolicyInputError && e.code === "invalid_time",
  );
});

Deno.test("explainDecision() reports each evaluated policy's verdict", () => {
  const snap = buildSnapshot({
    users: USERS,
    servers: SERVERS,
    policies: [
      policy(3, { validUntil: at(-1) }),
      policy(1, { revokedAt: at(-1) }),
      policy(2, { protocols: ["rdp"] }),
    ],
  });
  const { decision, evaluations } = explainDecision(snap, alice(), NOW);
  assert.equal(decision.allowed, false);
  assert.deepEqual(evaluations.map((e) => [e.policyId, e.verdict]), [
    [1, "revoked"],
    [2, "wrong_protocol"],
    [3, "expired"],
  ]);
  assert.match(evaluations[0].text, /^#1 \(user 1 → server 1\) revoked at /);
});

Deno.test("decide() detail lists at most ten policies", () => {
  const many = Array.from({ length: 25 }, (_, i) => policy(i + 1, { validUntil: at(-1) }));
  const snap = buildSnapshot({ users: USERS, servers: SERVERS, policies: many });
  const d = decide(snap, alice(), NOW);
  assert.ok(!d.allowed);
  assert.ok(d.detail.includes("… and 15 more"), d.detail);
  assert.equal(d.policyIds.length, 25);
});

Deno.test("decide(): RDP logins compare the way Windows does; SSH logins stay exact", () => {
  const s = buildSnapshot({
    users: USERS,
    servers: SERVERS,
    policies: [
      policy(1, { protocols: ["rdp", "ssh"], scope: { kind: "server", serverId: 1 }, logins: ["alice-adm"] }),
      policy(2, { protocols: ["rdp"], scope: { kind: "server", serverId: 5 }, logins: ["CORP\\svc"] }),
    ],
  });
  const rdp = (serverName: string, login: string | undefined) =>
    decide(s, alice({ protocol: "rdp", serverName, login }), NOW);
  for (const login of [undefined, "alice-adm", "ALICE-ADM", "CORP\\alice-adm", "alice-adm@corp"]) {
    assert.ok(rdp("web1", login).allowed, String(login));
  }
  for (const login of ["administrator", "CORP\\administrator", "", "alice-adm*"]) {
    const d = rdp("web1", login);
    assert.ok(!d.allowed && d.reason === "login_not_allowed", login);
  }
  for (const login of ["CORP\\svc", "corp\\SVC", "svc@corp"]) assert.ok(rdp("win1", login).allowed, login);
  for (const login of ["svc", "OTHER\\svc", "svc@corp.example"]) {
    assert.ok(!rdp("win1", login).allowed, login);
  }
  // SSH: Unix names are case-sensitive and have no domains
  assert.ok(decide(s, alice({ login: "alice-adm" }), NOW).allowed);
  assert.ok(!decide(s, alice({ login: "ALICE-ADM" }), NOW).allowed);
  assert.ok(!decide(s, alice({ login: "CORP\\alice-adm" }), NOW).allowed);
});
