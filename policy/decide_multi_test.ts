// Several valid policies for one request: how logins, forwarding and expiry combine.
import assert from "node:assert/strict";
import { decide } from "./decide.ts";
import type { AccessRequest, Allow, Policy } from "./model.ts";
import { buildSnapshot } from "./snapshot.ts";
import { at, HOUR, NOW, policy, server, user } from "./test_fixtures.ts";

const USERS = [user(1, "alice", ["10.0.0.5"], { groupIds: [100] })];
const SERVERS = [server(1, "web1", { groupIds: [10] })];

function allowOf(policies: Policy[], extra: Partial<AccessRequest> = {}): Allow {
  const snap = buildSnapshot({ users: USERS, servers: SERVERS, policies });
  const d = decide(snap, { sourceIp: "10.0.0.5", protocol: "ssh", serverId: 1, ...extra }, NOW);
  if (!d.allowed) throw new Error(`expected allow, got ${d.reason}: ${d.detail}`);
  return d;
}

const rootShort = policy(1, { logins: ["root"], validUntil: at(HOUR) });
const deployLong = policy(2, {
  subject: { kind: "user_group", userGroupId: 100 },
  logins: ["deploy"],
  portForwarding: true,
  validUntil: at(3 * HOUR),
});

Deno.test("decide() unions logins over valid policies when the login is unknown", () => {
  const d = allowOf([rootShort, deployLong]);
  assert.deepEqual(d.logins, ["deploy", "root"]);
  assert.deepEqual(d.policyIds, [1, 2]);
  assert.equal(d.portForwarding, true);
  assert.deepEqual(d.validUntil, at(3 * HOUR));
  assert.equal(d.policyId, 2);
});

Deno.test("decide() with a login uses only the policies allowing that login", () => {
  const asRoot = allowOf([rootShort, deployLong], { login: "root" });
  assert.deepEqual(asRoot.policyIds, [1]);
  assert.equal(asRoot.policyId, 1);
  assert.deepEqual(asRoot.logins, ["root"]);
  assert.equal(asRoot.portForwarding, false, "forwarding comes only from the deploy grant");
  assert.deepEqual(asRoot.validUntil, at(HOUR), "root access ends with the root grant");

  const asDeploy = allowOf([rootShort, deployLong], { login: "deploy" });
  assert.deepEqual(asDeploy.policyIds, [2]);
  assert.equal(asDeploy.portForwarding, true);
  assert.deepEqual(asDeploy.validUntil, at(3 * HOUR));
});

Deno.test("decide() treats an empty login list in any valid policy as any login", () => {
  const d = allowOf([rootShort, policy(3, { logins: [] }), deployLong]);
  assert.deepEqual(d.logins, []);
  const asAnyone = allowOf([rootShort, policy(3, { logins: [] })], { login: "whoever" });
  assert.deepEqual(asAnyone.policyIds, [3]);
});

Deno.test("decide() picks the most permissive policy, then the latest expiry", () => {
  const fwShort = policy(1, { portForwarding: true, validUntil: at(HOUR) });
  const plainLong = policy(2, { validUntil: at(5 * HOUR) });
  const d = allowOf([fwShort, plainLong]);
  assert.equal(d.policyId, 1, "forwarding beats a later expiry");
  assert.equal(d.portForwarding, true);
  assert.deepEqual(d.validUntil, at(5 * HOUR), "access lasts until the latest valid policy ends");

  const anyLogin = policy(3, { validUntil: at(HOUR) });
  const someLogins = policy(4, { logins: ["x"], validUntil: at(2 * HOUR) });
  assert.equal(allowOf([someLogins, anyLogin]).policyId, 3, "any-login beats a later expiry");

  const a = policy(5, { validUntil: at(HOUR) });
  const b = policy(6, { validUntil: at(2 * HOUR) });
  assert.equal(allowOf([a, b]).policyId, 6, "same permissions: latest expiry");
  assert.equal(allowOf([policy(8), policy(7)]).policyId, 7, "full tie: lowest id");
});

Deno.test("decide() ignores invalid policies when combining", () => {
  const expiredFw = policy(1, { portForwarding: true, validUntil: at(-1), logins: [] });
  const revokedLong = policy(2, { validUntil: at(9 * HOUR), revokedAt: at(-HOUR) });
  const rdpOnly = policy(3, { protocols: ["rdp"], portForwarding: true });
  const ok = policy(4, { logins: ["deploy"] });
  const d = allowOf([expiredFw, revokedLong, rdpOnly, ok]);
  assert.deepEqual(d.policyIds, [4]);
  assert.equal(d.portForwarding, false);
  assert.deepEqual(d.logins, ["deploy"]);
  assert.deepEqual(d.validUntil, at(HOUR));
});

Deno.test("decide() counts a policy reached by two paths once", () => {
  const users = [user(1, "alice", ["10.0.0.5"], { groupIds: [100, 100] })];
  const servers = [server(1, "web1", { groupIds: [10, 10] })];
  const p = policy(1, {
    subject: { kind: "user_group", userGroupId: 100 },
    scope: { kind: "server_group", serverGroupId: 10 },
  });
  const snap = buildSnapshot({ users, servers, policies: [p] });
  const d = decide(snap, { sourceIp: "10.0.0.5", protocol: "ssh", serverId: 1 }, NOW);
  assert.ok(d.allowed);
  assert.deepEqual(d.policyIds, [1]);
});
