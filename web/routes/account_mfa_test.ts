// Route tests for console TOTP: enrolment on the account page (QR code as inline SVG, the secret once,
// active only after a correct code), login with a code (a code once, recovery codes once, wrong codes
// count towards the lockout), console_mfa = required, and an admin's reset (real PostgreSQL).
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { enrolTotp, resetTotp, totpFactorOf } from "../../db/totp.ts";
import { createUser } from "../../db/users.ts";
import { findConsoleUserByName } from "../../db/console_users.ts";
import { totpCode } from "../../policy/totp.ts";
import { type Client, type Fixture, fixture, TEST_SECRET_KEY } from "../testing.ts";

async function enrol(fx: Fixture, c: Client): Promise<{ secret: string; codes: string[] }> {
  await c.page("/account");
  const r = await c.post("/account/totp/enrol");
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.match(html, /<div class="qr" id="totp-qr"><svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const secret = /id="totp-secret">([A-Z2-7]{32})</.exec(html)![1];
  const codes = [...html.matchAll(/<li ?><code>([a-z2-7-]{14})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(codes.length, 10);
  const ok = await c.post("/account/totp/confirm", { code: totpCode(secret, fx.clock.now.getTime()) });
  await ok.body?.cancel();
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("Location"), "/account?totp=on");
  return { secret, codes };
}

/** The password step, then the code step; returns the code step's response. */
async function loginWithCode(c: Client, name: string, code: string, next = "/"): Promise<Response> {
  const form = await (await c.get("/login")).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(form)![1];
  const r1 = await c.post("/login", { _csrf: token, name, password: `pw-${name}-secret`, next });
  assert.equal(r1.status, 200);
  const html = await r1.text();
  assert.match(html, /id="code-form"/);
  const challenge = /name="challenge" value="([^"]+)"/.exec(html)![1];
  const token2 = /name="_csrf" value="([^"]+)"/.exec(html)![1];
  return await c.post("/login/code", { _csrf: token2, challenge, code });
}

Deno.test("account page: TOTP set up shows a QR code and the secret once, and is active only after a code", async () => {
  const fx = await fixture();
  try {
    const c = await fx.as("operator", "olga");
    const before = await c.page("/account");
    assert.match(before.html, /id="totp-state">Not set up/);
    const r = await c.post("/account/totp/enrol");
    const html = await r.text();
    const secret = /id="totp-secret">([A-Z2-7]{32})</.exec(html)![1];
    const user = (await findConsoleUserByName(fx.db.sql, "olga"))!;
    const owner = { kind: "console" as const, id: user.id, name: "olga" };
    assert.equal((await totpFactorOf(fx.db.sql, owner))?.confirmed, false);
    // pending: the page does not show the secret again, and logins do not ask for a code yet
    const again = await c.page("/account");
    assert.doesNotMatch(again.html, new RegExp(secret));
    assert.match(again.html, /not confirmed/);
    const wrong = await c.post("/account/totp/confirm", { code: "000000" });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /wrong or already used/);
    const ok = await c.post("/account/totp/confirm", { code: totpCode(secret, fx.clock.now.getTime()) });
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    assert.equal((await totpFactorOf(fx.db.sql, owner))?.confirmed, true);
    const on = await c.page("/account?totp=on");
    assert.match(on.html, /Two-factor authentication is on/);
    assert.match(on.html, /10\s*recovery code\(s\) left/);
    // an active factor cannot be replaced from a session
    const replace = await c.post("/account/totp/enrol");
    assert.equal(replace.status, 400);
    assert.match(await replace.text(), /already has an active TOTP factor/);
    assert.equal((await listAudit(fx.db.sql, { action: "mfa.totp_enrolled" })).length, 1);
    assert.equal((await listAudit(fx.db.sql, { action: "mfa.totp_confirmed" })).length, 1);
  } finally {
    await fx.close();
  }
});

Deno.test("console login with TOTP: the code after the password, once; recovery codes once; next kept", async () => {
  const fx = await fixture();
  try {
    const { secret, codes } = await enrol(fx, await fx.as("auditor", "ann"));
    // a code used at enrolment's step is spent: move on one step
    fx.clock.now = new Date(fx.clock.now.getTime() + 30_000);
    const code = totpCode(secret, fx.clock.now.getTime());
    const c = fx.client();
    const bad = await loginWithCode(c, "ann", "123456");
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /Wrong or already used code/);
    assert.equal((await listAudit(fx.db.sql, { action: "console.mfa_failed" })).length, 1);
    const ok = await loginWithCode(c, "ann", code, "/audit");
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), "/audit");
    assert.equal((await c.page("/audit")).status, 200);
    const login = (await listAudit(fx.db.sql, { action: "console.login" }))[0];
    assert.equal(login.details.mfa, "totp");
    // the same code again: refused
    const replay = await loginWithCode(fx.client(), "ann", code);
    assert.equal(replay.status, 401);
    // a recovery code: once
    const rc = await loginWithCode(fx.client(), "ann", codes[0].toUpperCase());
    await rc.body?.cancel();
    assert.equal(rc.status, 303);
    const rc2 = await loginWithCode(fx.client(), "ann", codes[0]);
    assert.equal(rc2.status, 401);
    // no session without the code: the password step alone sets no cookie
    const half = fx.client();
    const form = await (await half.get("/login")).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1];
    await (await half.post("/login", { _csrf: token, name: "ann", password: "pw-ann-secret" })).body
      ?.cancel();
    const r = await half.get("/audit");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.match(r.headers.get("Location")!, /^\/login/);
  } finally {
    await fx.close();
  }
});

Deno.test("wrong codes count towards the account lockout", async () => {
  const fx = await fixture();
  try {
    const { secret } = await enrol(fx, await fx.as("auditor", "al"));
    const c = fx.client();
    for (let i = 0; i < 4; i++) assert.equal((await loginWithCode(c, "al", "999999")).status, 401);
    const fifth = await loginWithCode(c, "al", "999998");
    assert.equal(fifth.status, 429);
    assert.match(await fifth.text(), /locked/);
    // locked: the password step refuses before anything is checked
    const form = await (await c.get("/login")).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1];
    const r = await c.post("/login", { _csrf: token, name: "al", password: "pw-al-secret" });
    assert.equal(r.status, 429);
    await r.body?.cancel();
    assert.ok(secret);
  } finally {
    await fx.close();
  }
});

Deno.test("console_mfa = required: an account without TOTP is sent to enrol first; an admin reset is audited", async () => {
  const fx = await fixture({ consoleMfa: "required" });
  try {
    const c = await fx.as("admin", "root");
    const r = await c.get("/sessions");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("Location"), "/account");
    const held = (await c.page("/account")).html;
    assert.match(held, /id="mfa-required"/);
    // no navigation while held: its links, and the polled Requests badge (htmx follows the gate's
    // HX-Redirect), would only bring the page back to itself, over and over
    assert.doesNotMatch(held, /nav-count|href="\/sessions"/);
    await enrol(fx, c);
    assert.equal((await c.page("/sessions")).status, 200);
    assert.match((await c.page("/account")).html, /id="nav-count-requests"/, "the navigation is back");
    const user = (await findConsoleUserByName(fx.db.sql, "root"))!;
    assert.ok(await resetTotp(fx.db.sql, { kind: "console", id: user.id, name: "root" }, "cli:test"));
    const after = await c.get("/sessions");
    await after.body?.cancel();
    assert.equal(after.status, 303, "enrol again after a reset");
    const reset = (await listAudit(fx.db.sql, { action: "mfa.totp_reset" }))[0];
    assert.equal(reset.actor, "cli:test");
    assert.equal(reset.target, "root");
  } finally {
    await fx.close();
  }
});

Deno.test("console users page: an admin sees who has TOTP and resets another account's factor (audited)", async () => {
  const fx = await fixture();
  try {
    const olga = await fx.as("operator", "olga");
    await enrol(fx, olga);
    const admin = await fx.as("admin", "root");
    const list = await admin.page("/console-users");
    assert.match(list.html, /<td>olga<\/td>(?:(?!<\/tr>)[\s\S])*<td class="totp-state">active<\/td>/);
    const r = await admin.post("/console-users/olga/reset-totp");
    assert.equal(r.status, 200);
    assert.match(await r.text(), /Removed olga&#39;s authenticator|Removed olga's authenticator/);
    const user = (await findConsoleUserByName(fx.db.sql, "olga"))!;
    assert.equal(await totpFactorOf(fx.db.sql, { kind: "console", id: user.id, name: "olga" }), null);
    const reset = (await listAudit(fx.db.sql, { action: "mfa.totp_reset" }))[0];
    assert.equal(reset.actor, "console:root");
    assert.equal(reset.target, "olga");
    assert.equal(reset.source_ip, "192.0.2.10");
    // an operator may not
    const denied = await olga.post("/console-users/root/reset-totp");
    await denied.body?.cancel();
    assert.equal(denied.status, 403);
  } finally {
    await fx.close();
  }
});

Deno.test("user page: an end user's TOTP state, and Reset TOTP (audited)", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator", "olga");
    const u = await createUser(fx.db.sql, { name: "eve" }, "test");
    await enrolTotp(fx.db.sql, TEST_SECRET_KEY, { kind: "user", id: u.id, name: "eve" }, "test");
    const before = await op.page("/users/eve");
    assert.match(before.html, /id="user-totp">pending/);
    const r = await op.post("/users/eve/reset-totp");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.match((await op.page("/users/eve")).html, /id="user-totp">none/);
    const reset = (await listAudit(fx.db.sql, { action: "mfa.totp_reset" }))[0];
    assert.deepEqual([reset.actor, reset.target, reset.details.owner], ["console:olga", "eve", "user"]);
  } finally {
    await fx.close();
  }
});
