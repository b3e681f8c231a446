import assert from "node:assert/strict";
import { buildSnapshot } from "../../policy/mod.ts";
import { at, HOUR, NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import { admit, admitUser, plainIp, readmit } from "./admission.ts";
import { clientInfoLogin, gateClientInfoLogin } from "./login_gate.ts";

const shared = (cidr: string) => ({ sourceCidrs: [{ cidr, shared: true }] });
const snapshot = buildSnapshot({
  users: [
    user(1, "alice", ["10.0.0.1/32"]),
    // two users behind one NAT address
    user(2, "bob", ["10.9.0.0/24"], shared("10.9.0.0/24")),
    user(3, "carol", ["10.9.0.0/24"], shared("10.9.0.0/24")),
    // a wide range of dave's that alice's /32 also sits in
    user(4, "dave", ["10.0.0.0/8"]),
  ],
  servers: [
    server(1, "win1", { poolIp: "10.50.0.1", protocols: ["rdp"] }),
    server(2, "win2", { rdpListenPort: 40002, protocols: ["rdp"] }),
    server(3, "linux", { poolIp: "10.50.0.3", protocols: ["ssh"] }),
    server(4, "winnla", { poolIp: "10.50.0.4", protocols: ["rdp"], rdpSecurity: "nla" }),
  ],
  policies: [
    policy(1, { subject: { kind: "user", userId: 1 }, scope: { kind: "server", serverId: 1 } }),
    policy(2, {
      subject: { kind: "user", userId: 1 },
      scope: { kind: "server", serverId: 2 },
      validUntil: at(-HOUR / 2),
    }),
    policy(3, { subject: { kind: "user", userId: 3 }, scope: { kind: "server", serverId: 1 } }),
    policy(4, {
      subject: { kind: "user", userId: 1 },
      scope: { kind: "server", serverId: 4 },
      logins: ["alice-adm"],
    }),
    policy(5, { subject: { kind: "user", userId: 4 }, scope: { kind: "server", serverId: 1 } }),
  ],
});

const req = (
  sourceIp: string,
  localAddress: string,
  localPort = 3389,
  cookie: string | null = null,
  extra: { provenUser?: string; login?: string } = {},
) => ({ sourceIp, localAddress, localPort, cookie, ...extra });

Deno.test("admit() routes by pool IP first, then by dedicated port", () => {
  const a = admit(snapshot, req("10.0.0.1", "10.50.0.1"), NOW);
  assert.ok(a.allowed && a.server.name === "win1" && a.decision.policyId === 1 && !a.proven);
  const b = admit(snapshot, req("10.0.0.1", "10.0.0.254", 40002), NOW);
  assert.ok(!b.allowed && b.server?.name === "win2" && b.reason === "expired");
  const c = admit(snapshot, req("10.0.0.1", "10.0.0.254", 3389), NOW);
  assert.ok(!c.allowed && c.reason === "unknown_server" && c.server === undefined);
});

Deno.test("admit() denies with the policy engine's reason", () => {
  const cases: [string, ReturnType<typeof req>, string][] = [
    ["unknown source", req("192.0.2.1", "10.50.0.1"), "unknown_source_ip"],
    ["RDP not enabled on the server", req("10.0.0.1", "10.50.0.3"), "protocol_not_enabled"],
    [
      "NLA-proven user without a grant",
      req("10.9.0.5", "10.50.0.1", 3389, null, { provenUser: "bob" }),
      "no_policy",
    ],
  ];
  for (const [what, r, reason] of cases) {
    const a = admit(snapshot, r, NOW);
    assert.ok(!a.allowed, what);
    assert.equal(a.reason, reason, what);
  }
});

Deno.test("admit(): a shared source without NLA is denied; the mstshash cookie never picks a user", () => {
  // bob types carol's name (carol has the grant): still denied, and the detail says why
  for (const cookie of [null, "carol", "bob"]) {
    const a = admit(snapshot, req("10.9.0.5", "10.50.0.1", 3389, cookie), NOW);
    assert.ok(!a.allowed && a.reason === "ambiguous_source", String(cookie));
    assert.equal(a.userName, undefined, "nobody is blamed for an unproven connection");
    assert.match(a.detail, /users bob, carol; only NLA can tell them apart/);
    if (cookie) assert.match(a.detail, new RegExp(`cookie "${cookie}" is not proof`));
  }
  // the cookie does not override an unambiguous source either
  const spoof = admit(snapshot, req("10.0.0.1", "10.50.0.1", 3389, "carol"), NOW);
  assert.ok(spoof.allowed && spoof.decision.userName === "alice");
});

Deno.test("admit(): an NLA-proven user must be one whose CIDRs contain the source", () => {
  const carol = admit(snapshot, req("10.9.0.5", "10.50.0.1", 3389, "bob", { provenUser: "carol" }), NOW);
  assert.ok(
    carol.allowed && carol.decision.userName === "carol" && carol.proven,
    "the proven user, not the cookie",
  );
  // dave proves himself from alice's /32, which is inside his /8: he is dave there, with dave's grants
  const dave = admit(snapshot, req("10.0.0.1", "10.50.0.1", 3389, null, { provenUser: "dave" }), NOW);
  assert.ok(dave.allowed && dave.decision.userName === "dave");
  const outside = admit(snapshot, req("10.9.0.5", "10.50.0.1", 3389, null, { provenUser: "alice" }), NOW);
  assert.ok(!outside.allowed && outside.reason === "source_not_of_user" && outside.userName === "alice");
  const ghost = admit(snapshot, req("10.9.0.5", "10.50.0.1", 3389, null, { provenUser: "mallory" }), NOW);
  assert.ok(!ghost.allowed && ghost.reason === "unknown_user");
  assert.deepEqual(admitUser(snapshot, "10.9.0.9", { provenUser: "bob" }).ok, true);
  assert.equal(
    (admitUser(snapshot, "not an ip", { provenUser: "bob" }) as { reason: string }).reason,
    "source_not_of_user",
  );
});

Deno.test("admit(): rdp_security nla needs a proven user; logins are checked when known", () => {
  const tls = admit(snapshot, req("10.0.0.1", "10.50.0.4"), NOW);
  assert.ok(!tls.allowed && tls.reason === "nla_required" && tls.userName === "alice");
  const nla = admit(
    snapshot,
    req("10.0.0.1", "10.50.0.4", 3389, null, { provenUser: "alice", login: "CORP\\alice-adm" }),
    NOW,
  );
  assert.ok(nla.allowed && nla.decision.logins.includes("alice-adm"));
  const other = admit(
    snapshot,
    req("10.0.0.1", "10.50.0.4", 3389, null, { provenUser: "alice", login: "administrator" }),
    NOW,
  );
  assert.ok(!other.allowed && other.reason === "login_not_allowed");
});

Deno.test("readmit(): the same user must still be the one calling", () => {
  const conn = { sourceIp: "10.0.0.1", serverId: 1, provenUser: null, login: null, userId: 1 };
  assert.ok(readmit(snapshot, conn, NOW).allowed);
  // the source now identifies someone else (alice's /32 removed: dave's /8 matches)
  const moved = buildSnapshot({
    users: [user(1, "alice", ["10.1.1.1/32"]), user(4, "dave", ["10.0.0.0/8"])],
    servers: [server(1, "win1", { poolIp: "10.50.0.1", protocols: ["rdp"] })],
    policies: [policy(1, { subject: { kind: "user", userId: 1 }, scope: { kind: "server", serverId: 1 } })],
  });
  const d = readmit(moved, conn, NOW);
  assert.ok(!d.allowed && /now identifies dave/.test(d.detail));
  assert.ok(!readmit(snapshot, conn, at(2 * HOUR)).allowed, "the grant ran out");
  assert.ok(
    readmit(snapshot, { ...conn, sourceIp: "10.9.0.5", provenUser: "carol", userId: 3 }, NOW).allowed,
  );
});

Deno.test("gateClientInfoLogin(): the Client Info's login is checked against the grant's list", () => {
  const base = admit(snapshot, req("10.0.0.1", "10.50.0.4", 3389, null, { provenUser: "alice" }), NOW);
  assert.ok(base.allowed);
  const conn = { sourceIp: "10.0.0.1", serverId: 4, provenUser: "alice", userId: 1, decision: base.decision };
  const g = (domain: string, userName: string) =>
    gateClientInfoLogin(snapshot, conn, { domain, userName }, NOW);
  for (const [d, u] of [["", "alice-adm"], ["CORP", "ALICE-ADM"], ["", "alice-adm@corp"]]) {
    const r = g(d, u);
    assert.ok(r.ok, `${d}\\${u}`);
  }
  const wrong = g("CORP", "administrator");
  assert.ok(!wrong.ok && wrong.reason === "login_not_allowed" && wrong.login === "CORP\\administrator");
  const none = g("", "");
  assert.ok(!none.ok && none.reason === "login_not_allowed" && /named no Windows login/.test(none.detail));
  // a grant without a list lets any login, or none, through
  const open = admit(snapshot, req("10.0.0.1", "10.50.0.1"), NOW);
  assert.ok(open.allowed);
  const anyConn = { sourceIp: "10.0.0.1", serverId: 1, provenUser: null, userId: 1, decision: open.decision };
  assert.ok(gateClientInfoLogin(snapshot, anyConn, { domain: "", userName: "" }, NOW).ok);
  assert.ok(gateClientInfoLogin(snapshot, anyConn, { domain: "X", userName: "root" }, NOW).ok);
  assert.equal(
    (gateClientInfoLogin(null, anyConn, { domain: "", userName: "x" }, NOW) as { reason: string }).reason,
    "policy_unavailable",
  );
  assert.equal(clientInfoLogin({ domain: "CORP", userName: "x@corp" }), "x@corp");
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

Deno.test("admit(): where a second factor is demanded (grant, server or user), RDP fails closed", () => {
  const base = {
    users: [user(1, "alice", ["10.0.0.1/32"]), user(2, "bob", ["10.0.0.2/32"], { mfaRequired: true })],
    servers: [
      server(1, "win1", { poolIp: "10.50.0.1", protocols: ["rdp"] as ("rdp")[] }),
      server(2, "win2", { poolIp: "10.50.0.2", protocols: ["rdp"] as ("rdp")[], requireMfa: true }),
    ],
  };
  const snap = buildSnapshot({
    ...base,
    policies: [
      policy(1, {
        subject: { kind: "user", userId: 1 },
        scope: { kind: "server", serverId: 1 },
        requireMfa: true,
      }),
      policy(2, { subject: { kind: "user", userId: 1 }, scope: { kind: "server", serverId: 2 } }),
      policy(3, { subject: { kind: "user", userId: 2 }, scope: { kind: "server", serverId: 1 } }),
    ],
  });
  for (
    const [src, pool, why] of [["10.0.0.1", "10.50.0.1", "grant"], ["10.0.0.1", "10.50.0.2", "server"], [
      "10.0.0.2",
      "10.50.0.1",
      "user",
    ]]
  ) {
    const a = admit(snap, req(src, pool), NOW);
    assert.ok(!a.allowed, why);
    assert.equal(a.reason, "mfa_required", why);
    // a connection that carries a code to check (NLA) is admitted; the code is checked next
    assert.ok(admit(snap, { ...req(src, pool), secondFactor: true }, NOW).allowed, why);
  }
  const free = buildSnapshot({
    ...base,
    policies: [policy(1, { subject: { kind: "user", userId: 1 }, scope: { kind: "server", serverId: 1 } })],
  });
  assert.ok(admit(free, req("10.0.0.1", "10.50.0.1"), NOW).allowed);
});
