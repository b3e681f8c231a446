// Route tests: an account whose password someone else set (admin add in the console or the CLI, a reset in
// either) must choose its own at its next login before anything else; choosing it lifts that.
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { findConsoleUserByName } from "../../db/console_users.ts";
import { getServer } from "../../db/servers.ts";
import { cliFor } from "../../tests/helpers/cli.ts";
import { type Client, type Fixture, fixture, insertSession } from "../testing.ts";

const flagged = async (fx: Fixture, name: string) =>
  (await findConsoleUserByName(fx.db.sql, name))!.must_change_password;

/** Logs in; the first page after login must be the account page with the notice. */
async function loginForced(fx: Fixture, name: string, password: string): Promise<Client> {
  const c = fx.client("192.0.2.40");
  const r = await c.login(name, password);
  assert.equal(r.status, 303);
  const home = await c.get("/");
  await home.body?.cancel();
  assert.equal(home.status, 303);
  assert.equal(home.headers.get("Location"), "/account");
  const acc = await c.page("/account");
  assert.equal(acc.status, 200);
  assert.match(acc.html, /id="must-change"/);
  assert.match(acc.html, /set by an administrator/);
  return c;
}

async function status(c: Client, path: string, headers: Record<string, string> = {}) {
  const r = await c.get(path, headers);
  await r.body?.cancel();
  return { status: r.status, location: r.headers.get("Location"), hx: r.headers.get("HX-Redirect") };
}

Deno.test("a console user added by an admin must choose a password first: everything else is refused until then", async () => {
  const fx = await fixture();
  try {
    const admin = await fx.as("admin", "root");
    const r = await admin.post("/console-users", { name: "opal", role: "operator" });
    const given = /id="new-password">([A-Za-z0-9_-]{20})</.exec(await r.text())?.[1];
    assert.ok(given);
    assert.equal(await flagged(fx, "opal"), true);
    assert.match((await admin.page("/console-users")).html, /not chosen yet/);

    const op = await loginForced(fx, "opal", given);
    // the navigation is hidden while the password is not chosen
    assert.doesNotMatch((await op.page("/account")).html, /href="\/servers"/);
    for (const path of ["/", "/servers", "/sessions?user=x", "/audit", "/console-users", "/nope"]) {
      const s = await status(op, path);
      assert.deepEqual([s.status, s.location], [303, "/account"], path);
    }
    assert.deepEqual((await status(op, "/servers", { "HX-Request": "true" })).hx, "/account");
    assert.equal((await status(op, "/servers", { "HX-Request": "true" })).status, 403);
    // a live view's SSE stream is refused before it opens
    const live = await insertSession(fx.db.sql, { active: true });
    const sse = await status(op, `/sessions/${live.session_id}/live`, { Accept: "text/event-stream" });
    assert.equal(sse.status, 403);
    // POSTs (with a valid CSRF token) are refused and change nothing
    const post = await op.post("/servers", { name: "web9", address: "127.0.0.1", protocols: "ssh" });
    assert.equal(post.status, 403);
    assert.match(await post.text(), /choose your own/);
    await assert.rejects(getServer(fx.db.sql, "web9"));
    const kill = await op.post(`/sessions/${live.session_id}/kill`);
    await kill.body?.cancel();
    assert.equal(kill.status, 403);
    assert.deepEqual(fx.killed, []);

    // a wrong current password keeps the flag
    const wrong = await op.post("/account/password", {
      current: "not-the-given-one",
      password: "my-own-long-passphrase",
      confirm: "my-own-long-passphrase",
    });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 400);
    assert.equal(await flagged(fx, "opal"), true);

    const done = await op.post("/account/password", {
      current: given,
      password: "my-own-long-passphrase",
      confirm: "my-own-long-passphrase",
    });
    await done.body?.cancel();
    assert.equal(done.status, 303);
    assert.equal(await flagged(fx, "opal"), false);
    const after = await op.page("/account?changed=0");
    assert.doesNotMatch(after.html, /id="must-change"/);
    assert.match(after.html, /href="\/servers"/);
    assert.equal((await status(op, "/servers")).status, 200);
    const [ev] = await listAudit(fx.db.sql, { action: "console.password_change" });
    assert.deepEqual([ev.actor, ev.target, ev.success], ["console:opal", "opal", true]);
    // the next login goes straight to the console
    const again = fx.client("192.0.2.41");
    assert.equal((await again.login("opal", "my-own-long-passphrase")).status, 303);
    assert.equal((await status(again, "/")).status, 200);
  } finally {
    await fx.close();
  }
});

Deno.test("logging out works while the password is not chosen; accounts with their own password are unaffected", async () => {
  const fx = await fixture();
  try {
    const admin = await fx.as("admin", "root");
    const aud = await fx.as("auditor", "aud");
    assert.equal(await flagged(fx, "aud"), false);
    assert.equal((await status(aud, "/audit")).status, 200);
    assert.doesNotMatch((await aud.page("/account")).html, /id="must-change"/);

    const r = await admin.post("/console-users", { name: "newbie", role: "auditor" });
    const given = /id="new-password">([A-Za-z0-9_-]{20})</.exec(await r.text())![1];
    const nb = await loginForced(fx, "newbie", given);
    const out = await nb.post("/logout");
    await out.body?.cancel();
    assert.deepEqual([out.status, out.headers.get("Location")], [303, "/login?bye=1"]);
    // the admin and the auditor still work as before
    assert.equal((await status(admin, "/console-users")).status, 200);
    assert.equal((await status(aud, "/")).status, 200);
  } finally {
    await fx.close();
  }
});

Deno.test("a reset by an admin in the console flags the account, and so do the CLI's admin add and reset-password", async () => {
  const fx = await fixture();
  const cli = cliFor(fx.db.url);
  try {
    const admin = await fx.as("admin", "root");
    await fx.as("operator", "opal");
    assert.equal(await flagged(fx, "opal"), false);
    const reset = await admin.post("/console-users/opal/reset-password");
    const given = /id="reset-password">([A-Za-z0-9_-]{20})</.exec(await reset.text())![1];
    assert.equal(await flagged(fx, "opal"), true);
    await loginForced(fx, "opal", given);

    const added = await cli.json<{ password: string }>(["admin", "add", "cliuser", "--role", "operator"]);
    assert.equal(await flagged(fx, "cliuser"), true);
    const cu = await loginForced(fx, "cliuser", added.password);
    assert.equal((await status(cu, "/servers")).location, "/account");

    await fx.as("auditor", "aud");
    const again = await cli.json<{ password: string }>(["admin", "reset-password", "aud"]);
    assert.equal(await flagged(fx, "aud"), true);
    await loginForced(fx, "aud", again.password);
    assert.match(await cli.ok(["admin", "list"]), /MUST CHANGE PASSWORD\n(.*\n)*aud +auditor .* true\n/);
  } finally {
    await fx.close();
  }
});
