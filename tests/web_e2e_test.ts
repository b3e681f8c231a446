// Browser end to end: Debian's Chromium drives the console served by startWeb on a real database.
// Screenshots of each page land in tests/artifacts/web/ (gitignored).
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { startWeb } from "../web/mod.ts";
import { notifySessionKill } from "../db/notify.ts";
import type { Sql } from "../db/client.ts";

function webDeps(sql: Sql, logs: string[]) {
  return {
    sql,
    nodeId: "e2e-node",
    log: (level: string, m: string) => logs.push(`${level} ${m}`),
    listenerStatus: () => [{ name: "ssh", address: "127.0.0.1:2222", state: "up" as const }],
    killSession: async (id: string, actor: string) => {
      await notifySessionKill(sql, { session_id: id, actor });
      return true;
    },
  };
}

Deno.test("console in Chromium: log in and choose a password, create a user with two source IPs, a server with a backend key, a group, a policy by wizard; the CLI sees it; revoke; change the password; log out", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url, { JUMPHOST_IP_POOL: "127.0.6.0/29" });
  const logs: string[] = [];
  const dataDir = await Deno.makeTempDir({ prefix: "jh-e2e-web-" });
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
      dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: "/nonexistent",
      ipPool: "127.0.6.0/29",
    },
    webDeps(db.sql, logs),
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("web");
  try {
    const out = await cli.ok(["admin", "add", "root", "--role", "admin"]);
    const given = /password: (\S+)/.exec(out)![1];
    const page = b.page;

    await page.goto(`${base}/users`);
    assert.match(page.url(), /\/login\?/);
    await b.shot("01-login");
    await page.fill("#name", "root");
    await page.fill("#password", "wrong-password");
    await page.click("#login-submit");
    await page.waitForSelector("#login-error");
    await page.fill("#password", given);
    await page.click("#login-submit");
    // the password the CLI printed must be replaced first: the console sends the account to /account
    await page.waitForURL(`${base}/account`);
    await page.waitForSelector("#must-change");
    await b.shot("02-must-change");
    const password = "e2e first own passphrase";
    await page.fill("#f-current", given);
    await page.fill("#f-password", password);
    await page.fill("#f-confirm", password);
    await page.click("#change-password");
    await page.waitForSelector("text=Your password was changed.");
    assert.equal(await page.$("#must-change"), null);
    await page.goto(`${base}/users`);
    await page.waitForURL(`${base}/users`);
    await b.shot("02-users-empty");

    // a user with two source IPs
    await page.click("#new-user");
    await page.fill("#f-name", "alice");
    await page.fill("#f-full_name", "Alice Example");
    await page.fill("#f-source_ips", "127.0.0.10\n10.20.0.0/24");
    await page.fill("#f-ssh_keys", "not a key");
    await page.click("#user-submit");
    await page.waitForSelector("#f-ssh_keys-err");
    assert.equal(await page.inputValue("#f-name"), "alice", "typed values kept");
    await b.shot("03-user-form-error");
    await page.fill("#f-ssh_keys", "");
    await page.click("#user-submit");
    await page.waitForURL(/\/users\/alice\?created=1/);
    const ips = await page.textContent("#user-source-ips");
    assert.match(ips!, /127\.0\.0\.10\/32/);
    assert.match(ips!, /10\.20\.0\.0\/24/);
    await b.shot("04-user-detail");

    // a server with a pool IP
    await page.goto(`${base}/servers/new`);
    await page.fill("#f-name", "web1");
    await page.fill("#f-address", "127.0.0.1");
    await page.click("#server-submit");
    await page.waitForURL(/\/servers\/web1\?created=1/);
    assert.equal((await page.textContent("#server-pool-ip"))?.trim(), "127.0.6.1");
    await b.shot("05-server-detail");

    // the appliance's backend key: generate, its public key shown for authorized_keys, replace (confirmed)
    await page.click("#generate-backend-key");
    await page.waitForURL(/\/servers\/web1\?key=generated/);
    const fp1 = (await page.textContent("#backend-key-fingerprint"))!;
    assert.match(fp1, /^SHA256:/);
    assert.match(await page.inputValue("#backend-public-key"), /^ssh-ed25519 \S+ jumphost@web1$/);
    await page.click("#copy-public-key");
    await b.shot("05b-backend-key");
    await page.click("#generate-backend-key"); // confirm() accepted by the helper
    await page.waitForFunction(
      (fp) => document.querySelector("#backend-key-fingerprint")?.textContent !== fp,
      fp1,
    );
    await page.click("#remove-backend-key");
    await page.waitForURL(/\/servers\/web1\?key=removed/);
    assert.match((await page.textContent("#backend-key-state"))!, /No backend key/);

    // a server group with web1
    await page.goto(`${base}/groups`);
    await page.fill("#new-server-group #f-name", "linux");
    await page.click("#new-server-group button[type=submit]");
    await page.waitForURL(/\/groups\/server\/linux/);
    await page.selectOption("#add-member select", "web1");
    await page.click("#add-member button[type=submit]");
    await page.waitForSelector("#group-members >> text=web1");
    await b.shot("06-group");

    // the policy wizard: alice → group linux, logins root, 45 minutes
    await page.goto(`${base}/policies/new`);
    await page.selectOption("#f-subject_kind", "user");
    await page.selectOption("#f-subject", "alice");
    await page.click("#wizard-next");
    await page.selectOption("#f-scope_kind", "server_group");
    await page.click("#wizard-next");
    await page.waitForSelector("#f-scope-err");
    await page.selectOption("#f-scope", "linux");
    await page.click("#wizard-next");
    await page.fill("#f-logins", "root");
    await page.click("#wizard-next");
    await page.selectOption("#f-validity_mode", "duration");
    await page.fill("#f-duration_minutes", "45");
    await b.shot("07-wizard-validity");
    await page.click("#wizard-next");
    await page.waitForSelector("#policy-review");
    await b.shot("08-wizard-review");
    await page.click("#wizard-create");
    await page.waitForURL(/\/policies\/\d+\?created=1/);
    const policyId = Number(/\/policies\/(\d+)/.exec(page.url())![1]);
    await b.shot("09-policy");

    // the CLI sees the same policy, and access check agrees
    const listed = await cli.json<
      { id: number; subject: string; scope: string; logins: string[]; status: string }[]
    >(["policy", "list"]);
    assert.deepEqual(listed.map((p) => [p.id, p.subject, p.scope, p.logins, p.status]), [[
      policyId,
      "alice",
      "linux",
      ["root"],
      "active",
    ]]);
    const check = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "root",
    ]);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    // explain access in the console says the same
    await page.goto(`${base}/access`);
    await page.fill("#f-source_ip", "127.0.0.10");
    await page.selectOption("#f-server", "web1");
    await page.fill("#f-login", "root");
    await page.click("#explain-submit");
    await page.waitForSelector("#explain-result");
    assert.match((await page.textContent("#explain-result"))!, /ALLOW/);
    await b.shot("10-explain");

    // revoke with a reason
    await page.goto(`${base}/policies/${policyId}`);
    await page.fill("#reason", "e2e done");
    await page.click("#revoke");
    await page.waitForURL(/revoked=1/);
    assert.match((await page.textContent("#policy-revoked"))!, /e2e done/);
    const after = await cli.json<{ status: string; revoke_reason: string }>([
      "policy",
      "show",
      String(policyId),
    ]);
    assert.equal(after.status, "revoked");
    const denied = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
    ]);
    assert.equal(denied.code, 3);
    await b.shot("11-policy-revoked");

    // dashboard, sessions and audit render; the audit shows the console's own actions
    await page.goto(`${base}/`);
    await page.waitForSelector("#chart-hours");
    await b.shot("12-dashboard");
    await page.goto(`${base}/sessions`);
    await b.shot("13-sessions");
    await page.goto(`${base}/audit?actor=console:root`);
    const auditText = (await page.textContent("#audit-table"))!;
    for (
      const a of [
        "console.login",
        "user.create",
        "server.create",
        "group.member_add",
        "policy.create",
        "policy.revoke",
      ]
    ) {
      assert.ok(auditText.includes(a), a);
    }
    // the console's changes carry the browser's address (the socket peer)
    assert.match(
      (await page.textContent('#audit-table tr:has(td:text-is("user.create"))'))!,
      /127\.0\.0\.1/,
    );
    // tamper evidence: the audit chain of everything above is verified
    assert.equal(await page.getAttribute("#chain-state", "data-state"), "verified");
    assert.match((await page.textContent("#chain-state"))!, /verified \d+ rows/);
    await b.shot("14-audit");

    // change one's own password, then log in with the new one
    await page.click("#account-link");
    await page.waitForURL(`${base}/account`);
    const newPassword = "e2e changed passphrase";
    await page.fill("#f-current", password);
    await page.fill("#f-password", newPassword);
    await page.fill("#f-confirm", newPassword);
    await page.click("#change-password");
    await page.waitForSelector("text=Your password was changed.");
    await b.shot("15-password-changed");

    await page.click("#logout");
    await page.waitForURL(/\/login\?bye=1/);
    await page.goto(`${base}/users`);
    assert.match(page.url(), /\/login\?/);
    await b.shot("16-logged-out");
    await page.fill("#name", "root");
    await page.fill("#password", newPassword);
    await page.click("#login-submit");
    await page.waitForURL(`${base}/users`);
    await page.click("#logout");
    await page.waitForURL(/\/login\?bye=1/);
    assert.deepEqual(b.errors, [], "no script errors or CSP violations");
  } finally {
    await b.close();
    await web.stop();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
