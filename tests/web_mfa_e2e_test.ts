// Browser end to end for console TOTP: Chromium against the console served by startWeb with
// console_mfa = required on a real database. The account is sent to enrol, scans nothing but reads the
// secret under the QR code, and answers with codes made by oathtool (the RFC 6238 reference a phone app
// agrees with); then logs in with the password and a code, and once with a recovery code.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { runCmd } from "./helpers/ssh_clients.ts";
import { startWeb } from "../web/mod.ts";
import { listAudit } from "../db/audit.ts";

/** oathtool's code for the secret at now + offset seconds. */
async function oathtool(secret: string, offsetS = 0): Promise<string> {
  const at = Math.floor(Date.now() / 1000) + offsetS;
  const r = await runCmd("oathtool", ["--totp", "-b", secret, "-N", `@${at}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test("console in Chromium: console_mfa = required, TOTP enrolment with a QR code, login with a code and with a recovery code", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-e2e-mfa-" });
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
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
      log: () => {},
      listenerStatus: () => [],
      killSession: () => Promise.resolve(false),
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("web_mfa");
  try {
    const given = /password: (\S+)/.exec(await cli.ok(["admin", "add", "root", "--role", "admin"]))![1];
    const page = b.page;
    const password = "e2e mfa own passphrase";
    const logIn = async () => {
      await page.goto(`${base}/login`);
      await page.fill("#name", "root");
      await page.fill("#password", password);
      await page.click("#login-submit");
    };

    await page.goto(`${base}/login`);
    await page.fill("#name", "root");
    await page.fill("#password", given);
    await page.click("#login-submit");
    await page.waitForURL(`${base}/account`);
    await page.fill("#f-current", given);
    await page.fill("#f-password", password);
    await page.fill("#f-confirm", password);
    await page.click("#change-password");
    await page.waitForSelector("text=Your password was changed.");

    // console_mfa = required: nothing but the account page until a factor is active
    await page.goto(`${base}/sessions`);
    await page.waitForURL(`${base}/account`);
    await page.waitForSelector("#mfa-required");
    await page.click("#totp-enrol");
    await page.waitForSelector("#totp-qr svg");
    const box = await page.locator("#totp-qr svg").boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, "the QR code is drawn");
    const secret = (await page.textContent("#totp-secret"))!.trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const recovery = (await page.locator("#recovery-codes code").allTextContents()).map((s) => s.trim());
    assert.equal(recovery.length, 10);
    await b.shot("01-enrol");
    await page.fill("#totp-code", "000000");
    await page.click("#totp-confirm");
    await page.waitForSelector("#totp-error");
    assert.equal(await page.$("#totp-secret"), null, "the secret is not shown again");
    await page.fill("#totp-code", await oathtool(secret));
    await page.click("#totp-confirm");
    await page.waitForURL(`${base}/account?totp=on`);
    await page.waitForSelector("text=Two-factor authentication is on.");
    await b.shot("02-enabled");
    await page.goto(`${base}/sessions`);
    await page.waitForURL(`${base}/sessions`);

    // log out, log in: password, then the code (the next step's: this step's code is spent)
    await page.click("#logout");
    await page.waitForURL(/\/login/);
    await logIn();
    await page.waitForSelector("#code-form");
    await b.shot("03-code");
    await page.fill("#code", "123456");
    await page.click("#code-submit");
    await page.waitForSelector("#login-error");
    assert.match((await page.textContent("#login-error"))!, /Wrong or already used code/);
    await page.fill("#code", await oathtool(secret, 30));
    await page.click("#code-submit");
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/audit`);
    await page.waitForURL(`${base}/audit`);

    // and with a recovery code
    await page.click("#logout");
    await page.waitForURL(/\/login/);
    await logIn();
    await page.waitForSelector("#code-form");
    await page.fill("#code", recovery[0]);
    await page.click("#code-submit");
    await page.waitForURL(`${base}/`);
    const logins = await listAudit(db.sql, { action: "console.login" });
    assert.deepEqual(logins.slice(0, 2).map((l) => l.details.mfa), ["recovery_code", "totp"]);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await web.stop();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
