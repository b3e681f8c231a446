import assert from "node:assert/strict";
import { serversAllowedFor } from "./allowed_servers.ts";
import {
  findServerByPoolIp,
  findServerByRdpPort,
  findUserBySourceIp,
  identifySource,
  resolveServer,
} from "./lookup.ts";
import { buildSnapshot } from "./snapshot.ts";
import { at, HOUR, NOW, policy, server, user } from "./test_fixtures.ts";

const snap = buildSnapshot({
  users: [
    user(1, "alice", ["10.0.0.5/32", "2001:db8:a::/48"], { groupIds: [100] }),
    user(2, "bob", ["10.0.0.0/24"]),
    { ...user(3, "dave", []), sourceCidrs: [{ cidr: "192.168.50.0/24", shared: true }] },
    { ...user(4, "erin", []), sourceCidrs: [{ cidr: "192.168.50.0/24", shared: true }] },
    user(5, "zed", ["10.9.0.0/16"], { active: false }),
  ],
  servers: [
    server(1, "web1", { groupIds: [10], poolIp: "10.99.0.1" }),
    server(2, "web2", { groupIds: [10], poolIp: "2001:db8:ff::2" }),
    server(3, "db1", { protocols: ["ssh"], groupIds: [20] }),
    server(4, "win1", { protocols: ["rdp"], groupIds: [20], rdpListenPort: 33891 }),
    server(5, "old", { active: false, groupIds: [10] }),
    server(6, "alpha", { groupIds: [] }),
  ],
  policies: [
    // alice: group 100 → server group 10 (web1, web2, old), plus direct rdp to win1
    policy(1, {
      subject: { kind: "user_group", userGroupId: 100 },
      scope: { kind: "server_group", serverGroupId: 10 },
    }),
    policy(2, { scope: { kind: "server", serverId: 4 }, protocols: ["rdp"] }),
    policy(3, { scope: { kind: "server", serverId: 3 }, validUntil: at(-1) }), // expired
    policy(4, { scope: { kind: "server", serverId: 6 }, revokedAt: at(-1) }), // revoked
    // bob: a grant that starts later, and one on db1
    policy(5, {
      subject: { kind: "user", userId: 2 },
      scope: { kind: "server", serverId: 1 },
      validFrom: at(HOUR),
      validUntil: at(3 * HOUR),
    }),
    policy(6, { subject: { kind: "user", userId: 2 }, scope: { kind: "server", serverId: 3 } }),
    policy(7, { subject: { kind: "user", userId: 5 }, scope: { kind: "server", serverId: 1 } }),
  ],
});

Deno.test("findUserBySourceIp() applies longest prefix over IPv4, IPv6 and mapped addresses", () => {
  assert.equal(findUserBySourceIp(snap, "10.0.0.5")?.name, "alice");
  assert.equal(findUserBySourceIp(snap, "::ffff:10.0.0.5")?.name, "alice");
  assert.equal(findUserBySourceIp(snap, "10.0.0.6")?.name, "bob");
  assert.equal(findUserBySourceIp(snap, "2001:db8:a:1::9")?.name, "alice");
  assert.equal(findUserBySourceIp(snap, "10.9.1.1")?.name, "zed", "inactive users are still identified");
  assert.equal(findUserBySourceIp(snap, "10.0.1.1"), undefined);
  assert.equal(findUserBySourceIp(snap, "garbage"), undefined);
});

Deno.test("identifySource() needs a user name for a shared CIDR and ignores it otherwise", () => {
  const amb = identifySource(snap, "192.168.50.9");
  assert.equal(amb.kind, "ambiguous");
  assert.deepEqual(amb.kind === "ambiguous" && amb.users.map((u) => u.name), ["dave", "erin"]);
  assert.equal(findUserBySourceIp(snap, "192.168.50.9"), undefined);
  assert.equal(findUserBySourceIp(snap, "192.168.50.9", { userName: "erin" })?.name, "erin");
  assert.equal(
    findUserBySourceIp(snap, "10.0.0.5", { userName: "bob" })?.name,
    "alice",
    "hint never overrides",
  );
});

Deno.test("findServerByPoolIp() accepts any spelling of the pool IP", () => {
  assert.equal(findServerByPoolIp(snap, "10.99.0.1")?.name, "web1");
  assert.equal(findServerByPoolIp(snap, "::ffff:10.99.0.1")?.name, "web1");
  assert.equal(findServerByPoolIp(snap, "2001:DB8:FF:0::2")?.name, "web2");
  assert.equal(findServerByPoolIp(snap, "10.99.0.2"), undefined);
  assert.equal(findServerByPoolIp(snap, "nope"), undefined);
});

Deno.test("findServerByRdpPort() finds the server behind a dedicated listener", () => {
  assert.equal(findServerByRdpPort(snap, 33891)?.name, "win1");
  assert.equal(findServerByRdpPort(snap, 3389), undefined);
});

Deno.test("resolveServer() requires id and name to agree", () => {
  assert.equal(resolveServer(snap, 1, "web1").kind, "server");
  assert.equal(resolveServer(snap, 1, "web2").kind, "unknown");
  assert.equal(resolveServer(snap).kind, "unknown");
});

const names = (ip: string, protocol: "ssh" | "rdp", opts = {}) =>
  serversAllowedFor(snap, ip, protocol, NOW, opts).map((s) => s.name);

Deno.test("serversAllowedFor() lists active servers reachable through valid policies", () => {
  // old is in group 10 but inactive; db1's grant expired; alpha's was revoked.
  assert.deepEqual(names("10.0.0.5", "ssh"), ["web1", "web2"]);
  // win1 offers rdp only and has a direct rdp grant; db1 offers no rdp.
  assert.deepEqual(names("10.0.0.5", "rdp"), ["web1", "web2", "win1"]);
  assert.deepEqual(names("2001:db8:a::1", "rdp"), ["web1", "web2", "win1"]);
});

Deno.test("serversAllowedFor() honours time, protocol and identification", () => {
  assert.deepEqual(names("10.0.0.6", "ssh"), ["db1"], "bob's web1 grant starts later");
  assert.deepEqual(serversAllowedFor(snap, "10.0.0.6", "ssh", at(2 * HOUR)).map((s) => s.name), ["web1"]);
  assert.deepEqual(names("10.0.0.6", "rdp"), [], "db1 offers no rdp");
  assert.deepEqual(names("10.9.0.1", "ssh"), [], "inactive user");
  assert.deepEqual(names("192.168.50.1", "ssh"), [], "ambiguous source");
  assert.deepEqual(names("172.16.0.1", "ssh"), [], "unknown source");
});
