// The portal's Request access form: a jump user asks (the same request as at the SSH prompt, the same answer for
// a server that does not exist), sees only their own requests and their state; CSRF and bad input refused.
import assert from "node:assert/strict";
import { createUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createAccessRequest } from "../../db/access_requests.ts";
import { approveAccessRequest } from "../../db/access_request_decisions.ts";
import { createConsoleUser } from "../../db/console_users.ts";
import { listAudit } from "../../db/audit.ts";
import { type Client, fixture, TEST_SECRET_KEY } from "../testing.ts";

async function portalLogin(c: Client, name: string, password: string): Promise<string> {
  const html = await (await c.get("/portal/login")).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const r = await c.post("/portal/login", { _csrf: token, name, password, code: "" });
  assert.equal(r.status, 303);
  await r.body?.cancel();
  const home = await (await c.get("/portal")).text();
  return /name="_csrf" value="([^"]+)"/.exec(home)?.[1] ?? "";
}

Deno.test("portal: request access, own requests only, the same answer for an unknown server", async () => {
  const fx = await fixture({ requestWaitMinutes: 15 });
  try {
    const sql = fx.db.sql;
    await createUser(sql, { name: "alice", password: "alice-jump-pw" }, "test", {
      secretKey: TEST_SECRET_KEY,
    });
    const bob = await createUser(sql, { name: "bob" }, "test");
    await createServer(sql, { name: "web1", address: "127.0.0.1" }, "test", null);
    await createConsoleUser(sql, { name: "root", role: "admin", passwordHash: "x" }, { actor: "test" });
    // bob's request, which alice must never see
    await createAccessRequest(sql, {
      userId: bob.id,
      userName: "bob",
      serverName: "web1",
      protocol: "ssh",
      logins: ["root"],
      minutes: 5,
      reason: "bob-secret-reason",
      sourceIp: null,
      via: "ssh_exec",
      waitMinutes: 10,
    });

    const alice = fx.client("192.0.2.80");
    const csrf = await portalLogin(alice, "alice", "alice-jump-pw");
    const ask = (form: Record<string, string>) => alice.post("/portal/requests", { _csrf: csrf, ...form });
    const ok = await ask({ server: "web1", logins: "deploy", minutes: "90m", reason: "release 4.2" });
    assert.equal(ok.status, 303);
    const where = ok.headers.get("location") ?? "";
    await ok.body?.cancel();
    assert.match(where, /^\/portal\?requested=\d+$/);
    const ghost = await ask({ server: "nosuch", logins: "deploy", minutes: "90m", reason: "release 4.2" });
    assert.equal(ghost.status, 303, "the same answer for a server that does not exist");
    assert.match(ghost.headers.get("location") ?? "", /^\/portal\?requested=\d+$/);
    await ghost.body?.cancel();

    const home = await (await alice.get(where)).text();
    assert.match(home, /Request \d+ sent to the approvers\./);
    assert.match(home, /<td>web1<\/td><td>deploy<\/td><td>90<\/td><td>pending<\/td>/);
    assert.match(home, /<td>nosuch<\/td>/);
    assert.doesNotMatch(home, /bob-secret-reason/);
    const [created] = await listAudit(sql, { action: "request.created", limit: 1 });
    assert.equal(created.actor, "alice");
    assert.equal(created.details.via, "portal");
    assert.equal(created.source_ip, "192.0.2.80");
    const [{ mins }] = await sql<{ mins: number }[]>`
      SELECT round(extract(epoch FROM expires_at - created_at) / 60)::int AS mins FROM access_requests
      WHERE via = 'portal' LIMIT 1`;
    assert.equal(mins, 15);

    // approved: the state and minutes follow
    const id = Number(/requested=(\d+)/.exec(where)![1]);
    await approveAccessRequest(sql, id, { approver: "root", minutes: 30 }, "console:root");
    assert.match(await (await alice.get("/portal")).text(), /<td>30<\/td><td>approved<\/td>/);

    // bad input: a clear message, the form filled in
    const bad = await ask({ server: "web1", logins: "deploy", minutes: "soon", reason: "release 4.2" });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /not a duration/);
    assert.match(badHtml, /value="release 4\.2"/);
    const noReason = await ask({ server: "web1", logins: "deploy", minutes: "5", reason: "x" });
    assert.equal(noReason.status, 400);
    assert.match(await noReason.text(), /3 to 500/);
    // without the CSRF token
    const forged = await alice.post("/portal/requests", {
      _csrf: "nope",
      server: "web1",
      logins: "deploy",
      minutes: "5",
      reason: "forged one",
    });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    // not logged in
    const anon = fx.client("192.0.2.81");
    const r = await anon.post("/portal/requests", {
      server: "web1",
      logins: "x",
      minutes: "5",
      reason: "abc",
    });
    assert.equal(r.status, 303);
    await r.body?.cancel();
  } finally {
    await fx.close();
  }
});
