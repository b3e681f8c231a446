import assert from "node:assert/strict";
import { buildSnapshot } from "../../policy/mod.ts";
import { NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import { authDecision, methodsFor } from "./auth_decision.ts";

const alice = user(1, "alice", ["127.0.0.10/32"], { hasPassword: true });
const snap = buildSnapshot({
  users: [alice],
  servers: [server(1, "web1"), server(2, "db1")],
  policies: [policy(1, { scope: { kind: "server", serverId: 1 }, logins: ["root"] })],
});
const ask = (username: string, canAsk = true) =>
  authDecision(snap, { username, localIp: "127.0.0.1", sourceIp: "127.0.0.10", user: alice, canAsk }, NOW);

Deno.test("authDecision(): a granted server and login is allowed, with its route", () => {
  const r = ask("root@web1");
  assert.equal(r.kind, "allow");
  if (r.kind !== "allow") return;
  assert.equal(r.route.server.name, "web1");
  assert.equal(r.route.login, "root");
  assert.equal(r.decision.policyId, 1);
});

Deno.test("authDecision(): no grant is offered as an access request only to a user who may ask", () => {
  const offer = ask("root@db1");
  assert.equal(offer.kind, "offer");
  if (offer.kind === "offer") {
    assert.deepEqual([offer.serverName, offer.login, offer.reason], ["db1", "root", "no_policy"]);
    assert.deepEqual(offer.facts, { server: "db1", login: "root", policyIds: [], route: "name" });
  }
  const deny = ask("root@db1", false);
  assert.equal(deny.kind, "deny");
  if (deny.kind === "deny") assert.deepEqual([deny.reason, deny.text], ["no_policy", "denied"]);
  // a login outside the grant's list can be asked for too
  assert.equal(ask("admin@web1").kind, "offer");
});

Deno.test("authDecision(): an unknown server is offered like any other, never named as unknown to askers", () => {
  const offer = ask("root@nosuch");
  assert.equal(offer.kind, "offer");
  if (offer.kind === "offer") {
    assert.deepEqual([offer.serverName, offer.reason], ["nosuch", "unknown_server"]);
  }
  const deny = ask("root@nosuch", false);
  assert.ok(deny.kind === "deny" && deny.text === "unknown_server");
});

Deno.test("authDecision(): no server named: the only one allowed, the jump's own commands, or which server", () => {
  // alice may use one server: it is the target, the login is her user name (not in the grant's list: ask)
  const only = ask("alice");
  assert.ok(only.kind === "offer" && only.serverName === "web1" && only.reason === "login_not_allowed");
  // erin has no grant at all: under her own name the jump's commands (`request …`), otherwise which server
  const erin = user(5, "erin", ["127.0.0.11/32"], { hasPassword: true });
  const s2 = buildSnapshot({ users: [alice, erin], servers: [server(1, "web1")], policies: [] });
  const as = (username: string, canAsk = true) =>
    authDecision(s2, { username, localIp: "127.0.0.1", sourceIp: "127.0.0.11", user: erin, canAsk }, NOW);
  const own = as("erin");
  assert.ok(own.kind === "jump_user" && own.reason === "no_server", JSON.stringify(own));
  const other = as("root");
  assert.ok(other.kind === "deny" && other.text === "which_server" && other.reason === "no_server");
  const noAsk = as("erin", false);
  assert.ok(noAsk.kind === "deny" && noAsk.text === "which_server");
});

Deno.test("authDecision(): `timed` wraps the decision", () => {
  let calls = 0;
  const r = authDecision(
    snap,
    { username: "root@web1", localIp: "127.0.0.1", sourceIp: "127.0.0.10", user: alice, canAsk: true },
    NOW,
    (f) => (calls++, f()),
  );
  assert.equal(r.kind, "allow");
  assert.equal(calls, 1);
});

Deno.test("methodsFor(): what some candidate can prove; an IP-only user may use any", () => {
  const keyOnly = user(2, "bob", [], { sshKeyFingerprints: ["SHA256:x"] });
  const ipOnly = user(3, "carol", []);
  assert.deepEqual(methodsFor([keyOnly]), ["publickey"]);
  assert.deepEqual(methodsFor([alice]), ["password", "keyboard-interactive"]);
  assert.deepEqual(methodsFor([ipOnly]), ["publickey", "password", "keyboard-interactive"]);
  assert.deepEqual(methodsFor([ipOnly, user(4, "dave", [])]), []);
});
