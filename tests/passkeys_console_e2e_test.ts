// Console passkeys in Chromium with a CDP virtual authenticator (CTAP2, resident keys, user verification):
// added on the account page, then used to log in without a password, and as the second step after the
// password; a removed passkey is refused; the admin's reset removes them. Pages checked by axe-core.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { freePort } from "./helpers/sshd.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { startWeb } from "../web/mod.ts";

Deno.test("console passkeys in Chromium: add, passwordless login, second factor, removal", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-e2e-passkeys-" });
  const port = freePort();
  // WebAuthn needs a secure context and a host name: http://localhost is both
  const base = `http://localhost:${port}`;
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port }],
      dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: "/nonexistent",
      ipPool: null,
      consoleMfa: "required",
    },
    {
      sql: db.sql,
      nodeId: "e2e-node",
      log: (level, m) => level === "error" && console.error(m),
      listenerStatus: () => [],
      killSession: () => Promise.resolve(false),
    },
  );
  const b = await openBrowser("passkeys_console");
  try {
    for (const name of ["pat", "root"]) {
      await createConsoleUser(db.sql, {
        name,
        role: "admin",
        passwordHash: await hashPassword(`pw-${name}-secret-1`),
      }, { actor: "test" });
    }
    const page = b.page;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const passwordLogin = async (name: string) => {
      await page.context().clearCookies();
      await page.goto(`${base}/login`);
      await page.fill("#name", name);
      await page.fill("#password", `pw-${name}-secret-1`);
      await page.click("#login-submit");
      await page.waitForLoadState();
    };
    const audit = (action: string) =>
      db.sql<{ details: Record<string, unknown>; success: boolean; target: string }[]>`
        SELECT details, success, target FROM audit_log WHERE action = ${action} ORDER BY id`;

    // console_mfa = required: with no factor pat is held on the account page, where a passkey may be added
    await passwordLogin("pat");
    assert.equal(new URL(page.url()).pathname, "/account");
    assert.equal(await page.textContent("#no-passkeys"), "No passkey yet.");
    assert.deepEqual(
      (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical"),
      [],
    );
    await page.fill("#passkey-name", "Laptop key");
    await page.click("#passkey-add");
    await page.waitForURL(`${base}/account?passkey=added`).catch(async (e) => {
      throw new Error(`${e.message}; the page says: ${await page.textContent("#passkey-status")}`);
    });
    assert.equal((await page.textContent("#passkeys .passkey-name"))?.trim(), "Laptop key");
    assert.match((await page.textContent("#passkeys"))!, /localhost/);
    const [added] = await audit("mfa.passkey_added");
    assert.equal(added.target, "pat");
    assert.equal(added.details.passkey, "Laptop key");
    // a passkey counts as the second factor the console requires
    assert.equal((await page.goto(`${base}/sessions`))!.status(), 200);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true);

    // passwordless: the login page's passkey button, no name, no password
    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    assert.deepEqual(await axeViolations(page), []);
    await page.click("#login-passkey");
    await page.waitForURL(`${base}/`);
    const logins = await audit("console.login");
    const last = logins[logins.length - 1];
    assert.equal(last.target, "pat");
    assert.equal(last.details.method, "passkey");
    assert.equal(last.details.passwordless, true);

    // second factor: the password, then the passkey (the code page offers it; pat has no TOTP, so no code form)
    await passwordLogin("pat");
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(await page.locator("#code-form").count(), 0);
    assert.deepEqual(
      (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical"),
      [],
    );
    await page.click("#code-passkey");
    await page.waitForURL(`${base}/`);
    const after = await audit("console.login");
    assert.equal(after[after.length - 1].details.passwordless, false);
    assert.equal(after[after.length - 1].details.mfa, "passkey");

    // removed on the server, still in the authenticator: refused with a message, audited
    await page.goto(`${base}/account`);
    await page.click("#passkeys button.danger");
    await page.waitForURL(`${base}/account?passkey=removed`);
    assert.equal((await audit("mfa.passkey_removed")).length, 1);
    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    await page.click("#login-passkey");
    await page.waitForSelector("#passkey-status.error");
    assert.equal(await page.textContent("#passkey-status"), "That passkey was not accepted.");
    assert.equal(new URL(page.url()).pathname, "/login");
    const failed = await audit("console.login_failed");
    assert.equal(failed[failed.length - 1].details.reason, "unknown_passkey");

    // added again, then the admin root resets pat's second factor: the passkey goes
    await passwordLogin("pat");
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await page.fill("#passkey-name", "Second key");
    await page.click("#passkey-add");
    await page.waitForURL(`${base}/account?passkey=added`);
    await page.context().clearCookies();
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await passwordLogin("root");
    await page.click("#passkey-add"); // root needs a factor too (console_mfa = required)
    await page.waitForURL(`${base}/account?passkey=added`);
    await page.goto(`${base}/console-users`);
    assert.match((await page.textContent("#console-users"))!, /1 passkey\(s\)/);
    await page.click(`form[action="/console-users/pat/reset-totp"] button`);
    await page.waitForLoadState();
    assert.match((await page.textContent("main"))!, /Removed pat's 1 passkey\(s\)\./);
    const [{ n }] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM console_passkeys k JOIN console_users u ON u.id = k.console_user_id
      WHERE u.name = 'pat'`;
    assert.equal(n, 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await web.stop();
    await db.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
