import assert from "node:assert/strict";
import { buildSnapshot } from "../../policy/mod.ts";
import { HOUR, NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import { chooseRoute, parseUsername, plainIp } from "./identify.ts";

const snap = buildSnapshot({
  users: [user(1, "alice", ["127.0.0.10/32"]), user(2, "bob", ["127.0.0.20/32"])],
  servers: [
    server(1, "web1", { poolIp: "127.0.3.1" }),
    server(2, "db1", { poolIp: "127.0.3.2" }),
    server(3, "web2"),
  ],
  policies: [
    policy(1, { scope: { kind: "server", serverId: 1 } }),
    policy(2, { subject: { kind: "user", userId: 2 }, scope: { kind: "server", serverId: 1 } }),
    policy(3, { subject: { kind: "user", userId: 2 }, scope: { kind: "server", serverId: 3 } }),
  ],
});

Deno.test("parseUsername() splits login@server at the last @", () => {
  assert.deepEqual(parseUsername("root@web1"), { login: "root", serverName: "web1" });
  assert.deepEqual(parseUsername("ad@corp@web1"), { login: "ad@corp", serverName: "web1" });
  assert.deepEqual(parseUsername("root"), { login: "root", serverName: null });
  assert.deepEqual(parseUsername("root@"), { login: "root@", serverName: null });
  assert.deepEqual(parseUsername("@web1"), { login: "@web1", serverName: null });
  assert.deepEqual(parseUsername("root@bad name"), { login: "root@bad name", serverName: null });
});

const req = (username: string, localIp = "127.0.0.1", sourceIp = "127.0.0.10") => ({
  username,
  localIp,
  sourceIp,
});

Deno.test("chooseRoute() prefers the pool IP the client connected to", () => {
  const r = chooseRoute(snap, req("root", "127.0.3.2"), NOW);
  assert.ok(r.ok);
  assert.equal(r.server.name, "db1");
  assert.equal(r.login, "root");
  assert.equal(r.how, "pool_ip");
  // the same server named as well: stripped
  const same = chooseRoute(snap, req("root@db1", "127.0.3.2"), NOW);
  assert.ok(same.ok && same.login === "root" && same.server.name === "db1");
});

Deno.test("chooseRoute() refuses a pool IP and a different named server", () => {
  const r = chooseRoute(snap, req("root@web1", "127.0.3.2"), NOW);
  assert.ok(!r.ok);
  assert.equal(r.reason, "conflicting_target");
});

Deno.test("chooseRoute() routes login@server by name", () => {
  const r = chooseRoute(snap, req("admin@web2"), NOW);
  assert.ok(r.ok && r.server.name === "web2" && r.login === "admin" && r.how === "name");
  const unknown = chooseRoute(snap, req("admin@nope"), NOW);
  assert.ok(!unknown.ok && unknown.reason === "unknown_server");
});

Deno.test("chooseRoute() picks the only allowed server, else says why not", () => {
  const only = chooseRoute(snap, req("root"), NOW);
  assert.ok(only.ok && only.server.name === "web1" && only.how === "only_server");
  const two = chooseRoute(snap, req("root", "127.0.0.1", "127.0.0.20"), NOW);
  assert.ok(!two.ok && two.reason === "ambiguous");
  const none = chooseRoute(snap, req("root", "127.0.0.1", "127.0.0.99"), NOW);
  assert.ok(!none.ok && none.reason === "no_server");
  const later = chooseRoute(snap, req("root"), new Date(NOW.getTime() + 2 * HOUR));
  assert.ok(!later.ok && later.reason === "no_server");
});

Deno.test("chooseRoute() rejects logins with control characters", () => {
  const r = chooseRoute(snap, req("ro\u0001ot@web1"), NOW);
  assert.ok(!r.ok && r.reason === "invalid_login");
});

Deno.test("plainIp() unwraps IPv4-mapped IPv6", () => {
  assert.equal(plainIp("::ffff:127.0.0.5"), "127.0.0.5");
  assert.equal(plainIp("2001:db8::1"), "2001:db8::1");
  assert.equal(plainIp(undefined), "");
});
