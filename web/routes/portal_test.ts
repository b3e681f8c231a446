// The end-user portal: a jump user logs in with the jump password (and code), sees only their own grants
// and sessions, and the portal cookie opens no console page.
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { createUser, updateUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createGroup, setMembership } from "../../db/groups.ts";
import { createPolicy } from "../../db/policies.ts";
import { enrolTotp, verifySecondFactor } from "../../db/totp.ts";
import { totpCode } from "../../policy/totp.ts";
import { type Client, type Fixture, fixture, insertSession, TEST_SECRET_KEY } from "../testing.ts";

const sealing = { secretKey: TEST_SECRET_KEY };

async function portalLogin(c: Client, name: string, password: string, code = ""): Promise<Response> {
  const html = await (await c.get("/portal/login")).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  return await c.post("/portal/login", { _csrf: token, name, password, code });
}

async function world(fx: Fixture) {
  const sql = fx.db.sql;
  await createUser(sql, { name: "alice", password: "alice-jump-pw" }, "test", sealing);
  await createUser(sql, { name: "bob", password: "bob-jump-pw" }, "test", sealing);
  for (const name of ["web1", "web2", "db9"]) {
    await createServer(sql, { name, address: "127.0.0.1", protocols: ["ssh"] }, "test", null);
  }
  await createGroup(sql, "server", { name: "webs" }, "test");
  await setMembership(sql, "server", "webs", ["web1", "web2"], true, "test");
  await createGroup(sql, "user", { name: "ops" }, "test");
  await setMembership(sql, "user", "ops", ["alice"], true, "test");
  const now = Date.now();
  // alice: a direct grant to web1 (2 h), through group ops to the webs group (starts in 1 h)
  await createPolicy(sql, {
    user: "alice",
    server: "web1",
    logins: ["deploy"],
    validFrom: new Date(now - 60_000),
    validUntil: new Date(now + 2 * 3600_000),
  }, "test");
  await createPolicy(sql, {
    userGroup: "ops",
    serverGroup: "webs",
    validFrom: new Date(now + 3600_000),
    validUntil: new Date(now + 5 * 3600_000),
  }, "test");
  // bob only: db9, which alice must never see
  await createPolicy(sql, {
    user: "bob",
    server: "db9",
    logins: ["postgres"],
    validFrom: new Date(now - 60_000),
    validUntil: new Date(now + 3600_000),
  }, "test");
  // an expired grant of alice is not shown
  await createPolicy(sql, {
    user: "alice",
    server: "db9",
    validFrom: new Date(now - 7200_000),
    validUntil: new Date(now - 3600_000),
  }, "test");
  await insertSession(sql, { user_name: "alice", server_name: "web1", session_id: "aaaa1111-alice" });
  await insertSession(sql, { user_name: "bob", server_name: "db9", session_id: "bbbb2222-bob" });
}

Deno.test("portal: a jump user sees their own grants with time left and their own sessions, nobody else's", async () => {
  const fx = await fixture();
  try {
    await world(fx);
    const alice = fx.client("192.0.2.77");
    const r = await portalLogin(alice, "alice", "alice-jump-pw");
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("Location"), "/portal");
    const { status, html } = await alice.page("/portal");
    assert.equal(status, 200);
    assert.match(html, /id="portal-user">alice</);
    assert.match(html, /<td>web1<\/td><td>ssh<\/td><td>deploy<\/td>/);
    assert.match(html, /group <strong>webs<\/strong>: web1, web2/);
    assert.match(html, /starts in 1 h/);
    assert.match(html, /1 h 59 min left|2 h (1 min )?left/);
    assert.match(html, /group ops/);
    assert.match(html, /Connect with <code>ssh deploy@web1@localhost<\/code>/);
    // bob's grant and session, alice's expired grant: absent
    assert.doesNotMatch(html, /db9|postgres|bbbb2222/);
    assert.match(html, /id="portal-sessions"/);
    const login = (await listAudit(fx.db.sql, { action: "portal.login" }))[0];
    assert.equal(login.actor, "portal:alice");
    assert.equal(login.source_ip, "192.0.2.77");
  } finally {
    await fx.close();
  }
});

Deno.test("portal: the portal cookie opens no console page, and the console's login is not the portal's", async () => {
  const fx = await fixture();
  try {
    await world(fx);
    const alice = fx.client();
    assert.equal((await portalLogin(alice, "alice", "alice-jump-pw")).status, 303);
    for (const path of ["/", "/sessions", "/users", "/audit", "/policies"]) {
      const r = await alice.get(path);
      await r.body?.cancel();
      assert.equal(r.status, 303, path);
      assert.match(r.headers.get("Location") ?? "", /^\/login/);
    }
    // a jump user's password is no console password
    const console = fx.client();
    const r = await console.login("alice", "alice-jump-pw");
    await r.body?.cancel();
    assert.equal(r.status, 401);
  } finally {
    await fx.close();
  }
});

Deno.test("portal: a wrong password and an unknown user are refused alike, a disabled user is refused, all audited; lock after 5", async () => {
  const fx = await fixture();
  try {
    await world(fx);
    const c = fx.client("192.0.2.80");
    for (const [name, pw] of [["alice", "nope"], ["mallory", "whatever"]]) {
      const r = await portalLogin(c, name, pw);
      assert.equal(r.status, 401);
      assert.match(await r.text(), /Wrong name or password/);
    }
    const failed = await listAudit(fx.db.sql, { action: "portal.login_failed" });
    assert.deepEqual(failed.map((a) => a.details.reason).sort(), ["bad_credentials", "unknown_user"]);
    for (let i = 0; i < 4; i++) await (await portalLogin(c, "alice", "nope")).body?.cancel();
    const locked = await portalLogin(c, "alice", "alice-jump-pw");
    assert.equal(locked.status, 429);
    assert.match(await locked.text(), /Too many failed logins for this account/);
    assert.equal((await listAudit(fx.db.sql, { action: "portal.locked" })).length, 1);
    // a disabled user: refused with the right password, and an open portal session ends
    const bob = fx.client("192.0.2.81");
    assert.equal((await portalLogin(bob, "bob", "bob-jump-pw")).status, 303);
    await updateUser(fx.db.sql, "bob", { active: false }, "test");
    const gone = await bob.get("/portal");
    await gone.body?.cancel();
    assert.equal(gone.status, 303);
    const disabled = await portalLogin(fx.client("192.0.2.82"), "bob", "bob-jump-pw");
    assert.equal(disabled.status, 401);
    assert.match(await disabled.text(), /This account is disabled/);
    // no CSRF token: refused before any check
    const bare = await c.post("/portal/login", { _csrf: "x", name: "alice", password: "alice-jump-pw" });
    await bare.body?.cancel();
    assert.equal(bare.status, 403);
  } finally {
    await fx.close();
  }
});

Deno.test("portal: a user with an authenticator needs its code, a code counts once, logout ends the session", async () => {
  const fx = await fixture();
  try {
    await world(fx);
    const user = { kind: "user" as const, id: 0, name: "alice" };
    user.id = (await fx.db.sql<{ id: number }[]>`SELECT id FROM users WHERE name = 'alice'`)[0].id;
    const { secret } = await enrolTotp(fx.db.sql, TEST_SECRET_KEY, user, "test");
    // confirmed by a first code (as at the SSH prompt), one step back so the portal's code is a new one
    const earlier = Date.now() - 30_000;
    assert.ok(
      (await verifySecondFactor(
        fx.db.sql,
        TEST_SECRET_KEY,
        user,
        totpCode(secret, earlier),
        new Date(earlier),
        {
          allowPending: true,
        },
      )).ok,
    );
    const c = fx.client();
    const noCode = await portalLogin(c, "alice", "alice-jump-pw");
    assert.equal(noCode.status, 401);
    assert.match(await noCode.text(), /Enter the verification code/);
    const wrong = await portalLogin(c, "alice", "alice-jump-pw", "000000");
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong or already used verification code/);
    const code = totpCode(secret, Date.now());
    const ok = await portalLogin(c, "alice", "alice-jump-pw", code);
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    const page = await c.page("/portal");
    assert.equal(page.status, 200);
    // the same code again: refused (another browser)
    const again = await portalLogin(fx.client(), "alice", "alice-jump-pw", code);
    assert.equal(again.status, 401);
    await again.body?.cancel();
    const csrf =
      /action="\/portal\/logout">\s*<input type="hidden" name="_csrf" value="([^"]+)"/.exec(page.html)![1];
    const out = await c.post("/portal/logout", { _csrf: csrf });
    await out.body?.cancel();
    assert.equal(out.headers.get("Location"), "/portal/login?bye=1");
    const after = await c.get("/portal");
    await after.body?.cancel();
    assert.equal(after.status, 303);
    assert.equal((await listAudit(fx.db.sql, { action: "portal.mfa_failed" })).length, 2);
    assert.equal((await listAudit(fx.db.sql, { action: "portal.logout" })).length, 1);
  } finally {
    await fx.close();
  }
});
