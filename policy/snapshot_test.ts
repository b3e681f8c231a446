import assert from "node:assert/strict";
import { parseCidr, parseIp } from "./cidr.ts";
import { PolicyInputError, type PolicyInputErrorCode } from "./errors.ts";
import type { Policy, Server, User } from "./model.ts";
import { PrefixTable } from "./prefix_table.ts";
import { buildSnapshot } from "./snapshot.ts";
import { policy, server, user } from "./test_fixtures.ts";

Deno.test("PrefixTable.lookup() returns the longest matching prefix", () => {
  const table = new PrefixTable<string>();
  for (
    const cidr of ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "2001:db8::/32"]
  ) {
    table.getOrInsert(parseCidr(cidr), () => cidr);
  }
  const cases: [string, string | undefined][] = [
    ["10.1.2.3", "10.1.2.3/32"],
    ["10.1.2.4", "10.1.2.0/24"],
    ["10.1.3.1", "10.1.0.0/16"],
    ["10.200.0.1", "10.0.0.0/8"],
    ["192.0.2.1", "0.0.0.0/0"],
    ["::ffff:10.1.2.3", "10.1.2.3/32"],
    ["2001:db8:5::1", "2001:db8::/32"],
    ["2001:db9::1", undefined],
  ];
  for (const [ip, want] of cases) assert.equal(table.lookup(parseIp(ip))?.value, want, ip);
  assert.deepEqual(table.lookupAll(parseIp("10.1.2.3")).map((m) => m.value), [
    "10.1.2.3/32",
    "10.1.2.0/24",
    "10.1.0.0/16",
    "10.0.0.0/8",
    "0.0.0.0/0",
  ]);
  assert.equal(table.size, 6);
});

Deno.test("PrefixTable.getOrInsert() keeps one entry per exact CIDR", () => {
  const table = new PrefixTable<string[]>();
  table.getOrInsert(parseCidr("10.0.0.0/24"), () => []).push("a");
  table.getOrInsert(parseCidr("::ffff:10.0.0.0/120"), () => []).push("b");
  assert.equal(table.size, 1);
  assert.deepEqual(table.lookup(parseIp("10.0.0.1"))?.value, ["a", "b"]);
});

Deno.test("buildSnapshot() indexes servers by id, name, pool IP, RDP port and group", () => {
  const snap = buildSnapshot({
    users: [user(1, "alice", ["10.0.0.5"], { groupIds: [7] }), user(2, "bob", [], { groupIds: [7, 8] })],
    servers: [
      server(1, "web1", { poolIp: "::ffff:10.99.0.5", rdpListenPort: 33891, groupIds: [10, 11] }),
      server(2, "web2", { groupIds: [10] }),
    ],
    policies: [policy(1), policy(2, { subject: { kind: "user_group", userGroupId: 7 } })],
  });
  assert.equal(snap.serversByName.get("web2")?.id, 2);
  assert.equal(snap.serversByPoolIp.get("10.99.0.5")?.id, 1, "pool IP stored normalised");
  assert.equal(snap.serversByRdpPort.get(33891)?.id, 1);
  assert.deepEqual(snap.serverGroupMembers.get(10)?.map((s) => s.id), [1, 2]);
  assert.deepEqual(snap.serverGroupMembers.get(11)?.map((s) => s.id), [1]);
  assert.deepEqual(snap.userGroupMembers.get(7)?.map((u) => u.name), ["alice", "bob"]);
  assert.equal(snap.policiesByUser.get(1)?.byServer.get(1)?.[0].policy.id, 1);
  assert.equal(snap.policiesByUserGroup.get(7)?.byServer.get(1)?.[0].policy.id, 2);
  assert.deepEqual(snap.warnings, []);
});

Deno.test("buildSnapshot() warns when one CIDR is claimed by several users but not marked shared", () => {
  const snap = buildSnapshot({
    users: [user(1, "alice", ["10.0.0.0/24"]), user(2, "bob", ["10.0.0.0/24"])],
    servers: [server(1, "web1")],
    policies: [policy(1, { subject: { kind: "user", userId: 9 } })],
  });
  assert.equal(snap.warnings.length, 2);
  assert.match(snap.warnings[0], /10\.0\.0\.0\/24 is claimed by alice, bob/);
  assert.match(snap.warnings[1], /unknown user id 9/);
  assert.equal(snap.sources.lookup(parseIp("10.0.0.1"))?.value.users.length, 2);
});

const badInputs: [
  string,
  PolicyInputErrorCode,
  { users?: User[]; servers?: Server[]; policies?: Policy[] },
][] = [
  ["a malformed source CIDR", "invalid_cidr", { users: [user(1, "a", ["10.0.0/8"])] }],
  ["a source CIDR with host bits", "cidr_host_bits", { users: [user(1, "a", ["10.0.0.1/8"])] }],
  ["a duplicate user id", "duplicate_id", { users: [user(1, "a", []), user(1, "b", [])] }],
  ["a duplicate server id", "duplicate_id", { servers: [server(1, "a"), server(1, "b")] }],
  ["a duplicate policy id", "duplicate_id", { policies: [policy(1), policy(1)] }],
  ["a duplicate server name", "duplicate_server_name", { servers: [server(1, "a"), server(2, "a")] }],
  ["a malformed pool IP", "invalid_ip", { servers: [server(1, "a", { poolIp: "10.0.0" })] }],
  [
    "a pool IP used twice (in two spellings)",
    "duplicate_pool_ip",
    { servers: [server(1, "a", { poolIp: "10.9.0.1" }), server(2, "b", { poolIp: "::ffff:10.9.0.1" })] },
  ],
  [
    "an RDP listen port used twice",
    "duplicate_rdp_listen_port",
    { servers: [server(1, "a", { rdpListenPort: 4000 }), server(2, "b", { rdpListenPort: 4000 })] },
  ],
  ["an invalid policy date", "invalid_time", { policies: [policy(1, { validUntil: new Date("x") })] }],
];

for (const [name, code, input] of badInputs) {
  Deno.test(`buildSnapshot() rejects ${name} with ${code}`, () => {
    assert.throws(
      () =>
        buildSnapshot({
          users: input.users ?? [],
          servers: input.servers ?? [],
          policies: input.policies ?? [],
        }),
      (e) => e instanceof PolicyInputError && e.code === code,
    );
  });
}
