// Route tests: an admin resets another console user's password (random, shown once, their sessions and
// live views end); every user changes their own (current password required, strength rules, lockout).
import assert from "node:assert/strict";
import { join } from "node:path";
import { listAudit } from "../../db/audit.ts";
import { findConsoleUserByName } from "../../db/console_users.ts";
import { type Fixture, fixture, insertSession } from "../testing.ts";

const ADMIN_IP = "198.51.100.9";

async function adminFrom(fx: Fixture) {
  await fx.as("admin", "root"); // creates root (logged in from the default address)
  const a = fx.client(ADMIN_IP);
  assert.equal((await a.login("root", "pw-root-secret")).status, 303);
  return a;
}

Deno.test("admin resets a console user's password: shown once, old one dead, their sessions end, audited", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator", "opal");
    const a = await adminFrom(fx);
    // lock opal out first: a reset also lifts the lock
    for (let i = 0; i < 5; i++) await fx.client("192.0.2.77").login("opal", "wrong-guess");
    assert.ok((await findConsoleUserByName(fx.db.sql, "opal"))!.locked_until);

    const list = await a.page("/console-users");
    assert.match(list.html, /action="\/console-users\/opal\/reset-password"/);
    assert.doesNotMatch(list.html, /action="\/console-users\/root\/reset-password"/, "not for oneself");

    const r = await a.post("/console-users/opal/reset-password");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("Cache-Control"), "no-store");
    const html = await r.text();
    const password = /id="reset-password">([A-Za-z0-9_-]{20})</.exec(html)?.[1];
    assert.ok(password, "the new password is shown");
    assert.match(html, /1 console session\(s\) logged out/);
    // shown once: the list does not show it again
    assert.doesNotMatch((await a.page("/console-users")).html, new RegExp(password));

    // opal's open session is over; the old password fails; the new one works despite the earlier lock
    const gone = await op.get("/");
    await gone.body?.cancel();
    assert.equal(gone.status, 303);
    assert.equal((await fx.client().login("opal", "pw-opal-secret")).status, 401);
    assert.equal((await fx.client("192.0.2.78").login("opal", password)).status, 303);

    const [ev] = await listAudit(fx.db.sql, { action: "console.password_reset" });
    assert.equal(ev.actor, "console:root");
    assert.equal(ev.target, "opal");
    assert.equal(ev.source_ip, ADMIN_IP);
    assert.deepEqual(ev.details, { sessions_ended: 1 });
    // the password is nowhere but in that one response
    const all = JSON.stringify(await listAudit(fx.db.sql, { limit: 1000 }));
    assert.ok(!all.includes(password));
    assert.ok(!JSON.stringify(fx.logs).includes(password));

    // one's own password goes through /account; unknown users are a 404
    const self = await a.post("/console-users/root/reset-password");
    await self.body?.cancel();
    assert.equal(self.status, 303);
    assert.equal(self.headers.get("Location"), "/account");
    const nobody = await a.post("/console-users/nobody/reset-password");
    assert.equal(nobody.status, 404);
    assert.match(await nobody.text(), /no console user &quot;nobody&quot;/);
  } finally {
    await fx.close();
  }
});

Deno.test("password reset needs an admin and the CSRF token", async () => {
  const fx = await fixture();
  try {
    const a = await adminFrom(fx);
    await fx.as("auditor", "aud");
    const op = await fx.as("operator", "opal");
    const before = (await findConsoleUserByName(fx.db.sql, "aud"))!.password_hash;
    const forged = await a.post("/console-users/aud/reset-password", { _csrf: "forged" });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    const offsite = await a.post("/console-users/aud/reset-password", {}, { Origin: "https://evil.example" });
    assert.equal(offsite.status, 403);
    await offsite.body?.cancel();
    const byOperator = await op.post("/console-users/aud/reset-password");
    assert.equal(byOperator.status, 403);
    await byOperator.body?.cancel();
    assert.equal((await findConsoleUserByName(fx.db.sql, "aud"))!.password_hash, before);
    assert.equal((await listAudit(fx.db.sql, { action: "console.password_reset" })).length, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("a reset ends the user's open live view at once", async () => {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir, limits: { recheckMs: 60_000 } });
  try {
    const path = join(dir, "s.cast");
    await Deno.writeTextFile(path, '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "$ "]\n');
    const s = await insertSession(fx.db.sql, { active: true, recording_path: path });
    const aud = await fx.as("auditor", "aud");
    const res = await aud.get(`/sessions/${s.session_id}/live`, { Accept: "text/event-stream" });
    const a = await adminFrom(fx);
    const r = await a.post("/console-users/aud/reset-password");
    await r.body?.cancel();
    const t0 = performance.now();
    const text = await res.text(); // the stream closes
    assert.match(text, /event: logged_out\ndata: "revoked"/);
    assert.ok(performance.now() - t0 < 2000);
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("users change their own password: current one required, rules enforced, other sessions end", async () => {
  const fx = await fixture();
  try {
    const me = await fx.as("auditor", "aud");
    const other = fx.client("192.0.2.55");
    assert.equal((await other.login("aud", "pw-aud-secret")).status, 303);
    const acct = await me.page("/account");
    assert.equal(acct.status, 200);
    assert.match(acct.html, /id="account-link"/);
    assert.match(acct.html, /id="account-name">aud</);
    assert.match(acct.html, /autocomplete="current-password"/);

    const good = "correct horse battery";
    const cases: [Record<string, string>, RegExp][] = [
      [{ current: "", password: good, confirm: good }, /enter your current password/],
      [{ current: "pw-aud-secret", password: "short1", confirm: "short1" }, /at least 12 characters/],
      [{ current: "pw-aud-secret", password: "my-aud-password", confirm: "my-aud-password" }, /your name/],
      [{ current: "pw-aud-secret", password: "aaaaaaaaaaaabbb", confirm: "aaaaaaaaaaaabbb" }, /5 different/],
      [{ current: "pw-aud-secret", password: "pw-aud-secret", confirm: "pw-aud-secret" }, /your name/],
      [{ current: "pw-aud-secret", password: good, confirm: good + "!" }, /differ/],
      [{ current: "not-my-password", password: good, confirm: good }, /current password is wrong/],
    ];
    for (const [form, msg] of cases) {
      const r = await me.post("/account/password", form);
      assert.equal(r.status, 400, JSON.stringify(form));
      const html = await r.text();
      assert.match(html, msg);
      assert.ok(!html.includes(form.password) || form.password === "", "typed passwords are not echoed");
    }
    const [failed] = await listAudit(fx.db.sql, { action: "console.password_change" });
    assert.equal(failed.success, false);
    assert.equal(failed.details.reason, "wrong_current_password");
    assert.equal((await findConsoleUserByName(fx.db.sql, "aud"))!.failed_logins, 1);

    const forged = await me.post("/account/password", {
      current: "pw-aud-secret",
      password: good,
      confirm: good,
      _csrf: "x",
    });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();

    const ok = await me.post("/account/password", {
      current: "pw-aud-secret",
      password: good,
      confirm: good,
    });
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), "/account?changed=1");
    assert.match(
      (await me.page("/account?changed=1")).html,
      /Your password was changed\. 1 other console session/,
    );
    // this session stays, the other one is logged out
    assert.equal((await me.page("/")).status, 200);
    const gone = await other.get("/");
    await gone.body?.cancel();
    assert.equal(gone.status, 303);
    assert.equal((await fx.client("192.0.2.56").login("aud", "pw-aud-secret")).status, 401);
    assert.equal((await fx.client("192.0.2.57").login("aud", good)).status, 303);
    const [done] = await listAudit(fx.db.sql, { action: "console.password_change", success: true });
    assert.equal(done.actor, "console:aud");
    assert.equal(done.source_ip, "192.0.2.10");
    assert.deepEqual(done.details, { sessions_ended: 1 });
    assert.ok(!JSON.stringify(await listAudit(fx.db.sql, { limit: 1000 })).includes(good));
  } finally {
    await fx.close();
  }
});

Deno.test("wrong current passwords lock the account; a locked account cannot change its password", async () => {
  const fx = await fixture();
  try {
    const me = await fx.as("operator", "opal");
    const good = "a new long passphrase";
    for (let i = 0; i < 5; i++) {
      const r = await me.post("/account/password", { current: `guess-${i}`, password: good, confirm: good });
      await r.body?.cancel();
      assert.equal(r.status, 400);
    }
    assert.ok((await findConsoleUserByName(fx.db.sql, "opal"))!.locked_until);
    const r = await me.post("/account/password", {
      current: "pw-opal-secret",
      password: good,
      confirm: good,
    });
    assert.equal(r.status, 429);
    assert.match(await r.text(), /locked/);
    // the lock holds at the login form too, whatever password is typed (the lock is no oracle)
    assert.equal((await fx.client("192.0.2.60").login("opal", good)).status, 429);
  } finally {
    await fx.close();
  }
});
