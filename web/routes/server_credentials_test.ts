// Route tests: the server page's credential vault and RDP security setting, against a real database.
import assert from "node:assert/strict";
import { createServer, getServer } from "../../db/servers.ts";
import { credentialsFor, listServerCredentials } from "../../db/server_credentials.ts";
import { listAudit } from "../../db/audit.ts";
import { ntHashFor } from "../../db/user_nt_hash.ts";
import { ntHash } from "../../policy/nt_hash.ts";
import { fixture, TEST_SECRET_KEY } from "../testing.ts";

Deno.test("server page: store, replace, list and remove vaulted credentials; the password never comes back", async () => {
  const fx = await fixture();
  try {
    const win = await createServer(
      fx.db.sql,
      { name: "win", address: "10.1.1.1", protocols: ["rdp"] },
      "test",
      null,
    );
    const op = await fx.as("operator", "opal");
    const empty = await op.page("/servers/win");
    assert.match(empty.html, /Credential vault/);
    assert.match(empty.html, /No credentials\./);
    assert.match(empty.html, /DOMAIN\\user, user@domain or user/);
    assert.match(
      empty.html,
      /type="password"[^>]*autocomplete="new-password"|autocomplete="new-password"[^>]*type="password"/,
    );

    const r = await op.post("/servers/win/credentials", { login: "CORP\\svc", password: "Sup3r-secret!" });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.match(r.headers.get("location")!, /credential=set/);
    const page = await op.page("/servers/win?credential=set");
    assert.match(page.html, /Credential stored\./);
    assert.match(page.html, /<td class="mono">CORP\\svc<\/td>/);
    assert.ok(!page.html.includes("Sup3r-secret!"));
    const again = await op.post("/servers/win/credentials", { login: "corp\\SVC", password: "other-secret" });
    assert.match(again.headers.get("location")!, /credential=replaced/);
    await again.body?.cancel();
    const got = await credentialsFor(fx.db.sql, TEST_SECRET_KEY, win.id, "CORP\\svc");
    assert.ok(got.ok && got.credentials.length === 1 && got.credentials[0].password === "other-secret");

    // a rejected form keeps the login, never the password
    const bad = await op.post("/servers/win/credentials", { login: "bad*name", password: "Typed-pw-123" });
    const badHtml = await bad.text();
    assert.equal(bad.status, 400);
    assert.match(badHtml, /not a valid Windows account name/);
    assert.match(badHtml, /value="bad\*name"/);
    assert.ok(!badHtml.includes("Typed-pw-123"));
    const noPw = await op.post("/servers/win/credentials", { login: "x", password: "" });
    assert.equal(noPw.status, 400);
    await noPw.body?.cancel();

    const rm = await op.post("/servers/win/credentials/remove", { login: "corp\\svc" });
    await rm.body?.cancel();
    assert.match(rm.headers.get("location")!, /credential=removed/);
    assert.equal((await listServerCredentials(fx.db.sql, "win")).length, 0);
    const missing = await op.post("/servers/win/credentials/remove", { login: "nobody" });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const audit = [
      ...await listAudit(fx.db.sql, { action: "server.credential_set" }),
      ...await listAudit(fx.db.sql, { action: "server.credential_removed" }),
    ];
    assert.equal(audit.length, 3);
    for (const a of audit) {
      assert.equal(a.actor, "console:opal");
      assert.equal(a.source_ip, "192.0.2.10");
    }
    assert.ok(!JSON.stringify(audit).includes("secret"), "no password in the audit");
  } finally {
    await fx.close();
  }
});

Deno.test("server page: credentials need the manage role and the CSRF token", async () => {
  const fx = await fixture();
  try {
    await createServer(fx.db.sql, { name: "win", address: "10.1.1.1", protocols: ["rdp"] }, "test", null);
    const aud = await fx.as("auditor", "aud");
    const op = await fx.as("operator", "opal");
    await op.page("/servers/win");
    for (const path of ["/servers/win/credentials", "/servers/win/credentials/remove"]) {
      const a = await aud.post(path, { login: "svc", password: "pw" });
      await a.body?.cancel();
      assert.equal(a.status, 403, path);
      const forged = await op.post(path, { _csrf: "forged", login: "svc", password: "pw" });
      await forged.body?.cancel();
      assert.equal(forged.status, 403, `${path} without the CSRF token`);
    }
    assert.equal((await listServerCredentials(fx.db.sql, "win")).length, 0);
    const ghost = await op.post("/servers/ghost/credentials", { login: "svc", password: "pw" });
    await ghost.body?.cancel();
    assert.equal(ghost.status, 404);
  } finally {
    await fx.close();
  }
});

Deno.test("server form: RDP security defaults to any, can be set and shows on the page", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator");
    const form = await op.page("/servers/new");
    assert.match(form.html, /value="any" selected/);
    const r = await op.post("/servers", {
      name: "w2",
      address: "10.1.1.2",
      protocols: "rdp",
      ssh_port: "22",
      rdp_port: "3389",
      rdp_security: "nla",
    });
    await r.body?.cancel();
    assert.equal((await getServer(fx.db.sql, "w2")).rdp_security, "nla");
    assert.match((await op.page("/servers/w2")).html, /id="server-rdp-security">nla</);
    const e = await op.post("/servers/w2/edit", {
      address: "10.1.1.2",
      protocols: "rdp",
      ssh_port: "22",
      rdp_port: "3389",
      rdp_security: "tls",
      active: "on",
    });
    await e.body?.cancel();
    assert.equal((await getServer(fx.db.sql, "w2")).rdp_security, "tls");
    const bad = await op.post("/servers/w2/edit", {
      address: "10.1.1.2",
      protocols: "rdp",
      rdp_security: "kerberos",
      active: "on",
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await fx.close();
  }
});

Deno.test("users page: setting a password through the console stores the sealed NT hash", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator");
    const r = await op.post("/users", { name: "nina", password: "Console-pw-1", source_ips: "10.2.2.2" });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const h = await ntHashFor(fx.db.sql, TEST_SECRET_KEY, "nina");
    assert.ok(h.ok && Buffer.from(h.ntHash).equals(Buffer.from(ntHash("Console-pw-1"))));
    const e = await op.post("/users/nina/edit", { password: "Changed-pw-2", source_ips: "10.2.2.2" });
    await e.body?.cancel();
    assert.equal(e.status, 303);
    const h2 = await ntHashFor(fx.db.sql, TEST_SECRET_KEY, "nina");
    assert.ok(h2.ok && Buffer.from(h2.ntHash).equals(Buffer.from(ntHash("Changed-pw-2"))));
  } finally {
    await fx.close();
  }
});
