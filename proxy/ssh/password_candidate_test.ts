import assert from "node:assert/strict";
import { buildSnapshot } from "../../policy/mod.ts";
import { NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import { passwordCandidate } from "./password_candidate.ts";

const shared = (id: number, name: string) =>
  user(id, name, [], { sourceCidrs: [{ cidr: "10.0.0.0/24", shared: true }], hasPassword: true });
const ann = shared(1, "ann"), ben = shared(2, "ben"), cid = shared(3, "cid");
const snap = buildSnapshot({
  users: [ann, ben, cid],
  servers: [server(1, "web1"), server(2, "db1")],
  policies: [
    policy(1, {
      subject: { kind: "user", userId: 1 },
      scope: { kind: "server", serverId: 1 },
      logins: ["deploy"],
    }),
    policy(2, { subject: { kind: "user", userId: 2 }, scope: { kind: "server", serverId: 2 } }),
    policy(3, { subject: { kind: "user", userId: 3 }, scope: { kind: "server", serverId: 2 } }),
  ],
});
const req = (username: string) => ({ username, localIp: "127.0.0.1", sourceIp: "10.0.0.5" });

Deno.test("passwordCandidate(): the only password holder, or none", () => {
  assert.equal(passwordCandidate(snap, [ben], req("x@web1"), NOW), ben);
  assert.equal(passwordCandidate(snap, [], req("x@web1"), NOW), null);
});

Deno.test("passwordCandidate(): the holder named like the login wins", () => {
  assert.equal(passwordCandidate(snap, [ann, ben, cid], req("cid@web1"), NOW), cid);
  assert.equal(passwordCandidate(snap, [ann, ben, cid], req("ben"), NOW), ben);
});

Deno.test("passwordCandidate(): else the only holder the policy admits with this user name", () => {
  // only ann may log in to web1 (as deploy)
  assert.equal(passwordCandidate(snap, [ann, ben, cid], req("deploy@web1"), NOW), ann);
  assert.equal(passwordCandidate(snap, [ann, ben, cid], req("root@web1"), NOW), null, "login not allowed");
  // ben and cid may both reach db1: ambiguous, nobody's password is hashed
  assert.equal(passwordCandidate(snap, [ann, ben, cid], req("root@db1"), NOW), null);
  assert.equal(passwordCandidate(snap, [ann, ben], req("root@db1"), NOW), ben);
});
