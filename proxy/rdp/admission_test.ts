import assert from "node:assert/strict";
import { buildSnapshot } from "../../policy/mod.ts";
import { at, HOUR, NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import { admit, plainIp } from "./admission.ts";

const snapshot = buildSnapshot({
  users: [
    user(1, "alice", ["10.0.0.1/32"]),
    // two users behind one NAT address: only NLA tells them apart
    user(2, "bob", ["10.9.0.0/24"], { sourceCidrs: [{ cidr: "10.9.0.0/24", shared: true }] }),
    user(3, "carol", ["10.9.0.0/24"], { sourceCidrs: [{ cidr: "10.9.0.0/24", shared: true }] }),
  ],
  servers: [
    server(1, "win1", { poolIp: "10.50.0.1", protocols: ["rdp"] }),
    server(2, "win2", { rdpListenPort: 40002, protocols: ["rdp"] }),
    server(3, "linux", { poolIp: "10.50.0.3", protocols: ["ssh"] }),
  ],
  policies: [
    policy(1, { subject: { kind: "user", userId: 1 }, scope: { kind: "server", serverId: 1 } }),
    policy(2, {
      subject: { kind: "user", userId: 1 },
      scope: { kind: "server", serverId: 2 },
      validUntil: at(-HOUR / 2),
    }),
    policy(3, { subject: { kind: "user", userId: 3 }, scope: { kind: "server", serverId: 1 } }),
  ],
});

const req = (sourceIp: string, localAddress: string, localPort = 3389, provenUser: string | null = null) => ({
  sourceIp,
  localAddress,
  localPort,
  provenUser,
});

Deno.test("admit() routes by pool IP first, then by dedicated port", () => {
  const a = admit(snapshot, req("10.0.0.1", "10.50.0.1"), NOW);
  assert.ok(a.allowed && a.server.name === "win1" && a.decision.policyId === 1);
  const b = admit(snapshot, req("10.0.0.1", "10.0.0.254", 40002), NOW);
  assert.ok(!b.allowed && b.server?.name === "win2" && b.reason === "expired");
  const c = admit(snapshot, req("10.0.0.1", "10.0.0.254", 3389), NOW);
  assert.ok(!c.allowed && c.reason === "unknown_server" && c.server === undefined);
});

Deno.test("admit() denies with the policy engine's reason", () => {
  const cases: [string, ReturnType<typeof req>, string][] = [
    ["unknown source", req("192.0.2.1", "10.50.0.1"), "unknown_source_ip"],
    ["RDP not enabled on the server", req("10.0.0.1", "10.50.0.3"), "protocol_not_enabled"],
    ["shared CIDR without NLA", req("10.9.0.5", "10.50.0.1"), "unknown_source_ip"],
    ["NLA proved a shared user without a grant", req("10.9.0.5", "10.50.0.1", 3389, "bob"), "no_policy"],
    [
      "NLA proved someone else than the source's user",
      req("10.0.0.1", "10.50.0.1", 3389, "carol"),
      "unknown_source_ip",
    ],
    [
      "NLA proved a user outside the shared CIDR",
      req("10.9.0.5", "10.50.0.1", 3389, "alice"),
      "unknown_source_ip",
    ],
  ];
  for (const [what, r, reason] of cases) {
    const a = admit(snapshot, r, NOW);
    assert.ok(!a.allowed, what);
    assert.equal(a.reason, reason, what);
  }
  const carol = admit(snapshot, req("10.9.0.5", "10.50.0.1", 3389, "carol"), NOW);
  assert.ok(carol.allowed && carol.decision.userName === "carol", "NLA picks among shared users");
  const spoof = admit(snapshot, req("10.0.0.1", "10.50.0.1", 3389, "carol"), NOW);
  assert.ok(!spoof.allowed && spoof.userName === "carol", "audited under the proven name");
});

Deno.test("admit() applies the policy's login list to the requested Windows login", () => {
  const s = buildSnapshot({
    users: [user(1, "alice", ["10.0.0.1/32"])],
    servers: [server(1, "win1", { poolIp: "10.50.0.1", protocols: ["rdp"] })],
    policies: [policy(1, {
      subject: { kind: "user", userId: 1 },
      scope: { kind: "server", serverId: 1 },
      logins: ["CORP\\alice-adm"],
    })],
  });
  const base = req("10.0.0.1", "10.50.0.1", 3389, "alice");
  assert.ok(admit(s, { ...base, login: "corp\\ALICE-ADM" }, NOW).allowed, "compared as Windows does");
  const other = admit(s, { ...base, login: "CORP\\administrator" }, NOW);
  assert.ok(!other.allowed && other.reason === "login_not_allowed");
});

Deno.test("admit() fails closed without a snapshot", () => {
  const a = admit(null, req("10.0.0.1", "10.50.0.1"), NOW);
  assert.ok(!a.allowed && a.reason === "policy_unavailable");
});

Deno.test("plainIp() unwraps IPv4-mapped addresses", () => {
  assert.equal(plainIp("::ffff:127.0.0.5"), "127.0.0.5");
  assert.equal(plainIp("2001:db8::1"), "2001:db8::1");
  assert.equal(plainIp(undefined), "");
});
