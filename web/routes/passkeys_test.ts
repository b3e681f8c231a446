// Passkey routes with bad input: missing CSRF, unknown or reused ceremonies, garbage answers, bad names, an
// IP-address host. (The ceremonies themselves run in Chromium: tests/passkeys_console_e2e_test.ts.)
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { type Client, fixture } from "../testing.ts";

async function loginToken(c: Client): Promise<string> {
  const html = await (await c.get("/login")).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1];
}

const json = (token: string) => ({ "Content-Type": "application/json", "X-CSRF-Token": token });

Deno.test("passkey login routes: CSRF, expired or reused ceremonies and garbage answers are refused", async () => {
  const fx = await fixture();
  try {
    const c = fx.client("192.0.2.44");
    const token = await loginToken(c);
    const noCsrf = await c.request("/login/passkey/options", { method: "POST", headers: json("wrong") });
    await noCsrf.body?.cancel();
    assert.equal(noCsrf.status, 403);

    const start = await c.request("/login/passkey/options", {
      method: "POST",
      headers: json(token),
      body: "{}",
    });
    assert.equal(start.status, 200);
    const { handle, options } = await start.json();
    assert.equal(typeof handle, "string");
    assert.equal(options.rpId, "localhost");
    assert.equal(options.userVerification, "required");

    // an answer that is not a credential at all
    const garbage = await c.request("/login/passkey", {
      method: "POST",
      headers: json(token),
      body: JSON.stringify({
        handle,
        response: { id: "x".repeat(20), rawId: "x", type: "public-key", response: {} },
      }),
    });
    assert.equal(garbage.status, 401);
    assert.equal((await garbage.json()).error, "That passkey was not accepted.");
    const [failed] = await listAudit(fx.db.sql, { action: "console.login_failed" });
    assert.equal(failed.details.reason, "unknown_passkey");
    assert.equal(failed.source_ip, "192.0.2.44");

    // the ceremony was taken by that attempt: the same handle again is expired, as is a made-up one
    for (const h of [handle, "made-up"]) {
      const again = await c.request("/login/passkey", {
        method: "POST",
        headers: json(token),
        body: JSON.stringify({ handle: h, response: {} }),
      });
      assert.equal(again.status, 401);
      assert.match((await again.json()).error, /took too long/);
    }
    // not JSON: an empty object, refused the same way
    const notJson = await c.request("/login/passkey", { method: "POST", headers: json(token), body: "{{{" });
    assert.equal(notJson.status, 401);
    await notJson.body?.cancel();
    // a second-factor ceremony needs a live password step
    const noStep = await c.request("/login/passkey/options", {
      method: "POST",
      headers: json(token),
      body: JSON.stringify({ challenge: "not-a-challenge-token-at-all" }),
    });
    assert.equal(noStep.status, 401);
    await noStep.body?.cancel();
    // an IP address is no WebAuthn relying party
    const ip = await c.request("http://127.0.0.1/login/passkey/options", {
      method: "POST",
      headers: json(token),
      body: "{}",
    });
    assert.equal(ip.status, 400);
    assert.match((await ip.json()).error, /host name, not an IP address/);
  } finally {
    await fx.close();
  }
});

Deno.test("adding a passkey: a name is required, the ceremony must be this account's and live", async () => {
  const fx = await fixture();
  try {
    const pat = await fx.as("operator", "pat");
    const start = await pat.request("/account/passkeys/options", {
      method: "POST",
      headers: json(pat.csrf),
      body: "{}",
    });
    assert.equal(start.status, 200);
    const { handle, options } = await start.json();
    assert.equal(options.rp.id, "localhost");
    assert.equal(options.user.name, "pat");
    assert.equal(options.authenticatorSelection.residentKey, "required");
    for (const name of ["", "x".repeat(65), "bad\u0007name"]) {
      const r = await pat.request("/account/passkeys", {
        method: "POST",
        headers: json(pat.csrf),
        body: JSON.stringify({ handle, name, response: {} }),
      });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error, /name of 1 to 64/);
    }
    // another account cannot finish pat's ceremony
    const olga = await fx.as("operator", "olga");
    const stolen = await olga.request("/account/passkeys", {
      method: "POST",
      headers: json(olga.csrf),
      body: JSON.stringify({ handle, name: "mine", response: {} }),
    });
    assert.equal(stolen.status, 400);
    assert.match((await stolen.json()).error, /expired/);
    // and pat's handle is spent by that attempt; a garbage answer to a fresh one is rejected
    const fresh = await (await pat.request("/account/passkeys/options", {
      method: "POST",
      headers: json(pat.csrf),
      body: "{}",
    })).json();
    const bad = await pat.request("/account/passkeys", {
      method: "POST",
      headers: json(pat.csrf),
      body: JSON.stringify({ handle: fresh.handle, name: "key", response: { id: "a".repeat(20) } }),
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /not a passkey/);
    // without the session's CSRF token: refused
    const noCsrf = await pat.request("/account/passkeys/options", { method: "POST", headers: json("nope") });
    await noCsrf.body?.cancel();
    assert.equal(noCsrf.status, 403);
    assert.equal((await listAudit(fx.db.sql, { action: "mfa.passkey_added" })).length, 0);
  } finally {
    await fx.close();
  }
});
