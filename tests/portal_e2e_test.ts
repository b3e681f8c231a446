// The end-user portal end to end: the real `serve`, a real SSH session by wendy through the proxy to sshd,
// then wendy logs in to the portal in Chromium with her jump password and sees her grant (time left) and
// that session, and nothing of bob's. Checked by axe-core.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { cliFor } from "./helpers/cli.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";

Deno.test("portal in Chromium: a jump user sees only their own grants and sessions", async () => {
  const env = await startServeEnv();
  const b = await openBrowser("portal");
  try {
    const cli = cliFor(env.db.url, { JUMPHOST_DATA_DIR: env.dataDir });
    await cli.ok(["user", "edit", "wendy", "--password-stdin"], "wendy-portal-pw\n");
    await cli.ok(["user", "add", "bob", "--password-stdin"], "bob-portal-pw\n");
    await cli.ok(["server", "add", "db9", "127.0.0.1", "--pool-ip", "none"]);
    await cli.ok(["grant", "bob", "--server", "db9", "--login", "postgres", "--duration", "60"]);
    // a real session of wendy's through the proxy
    const r = await env.sshRun(["echo", "portal-was-here"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /portal-was-here/);

    const base = `http://127.0.0.1:${env.ports.web}`;
    const page = b.page;
    await page.goto(`${base}/portal/login`);
    await page.fill("#name", "wendy");
    await page.fill("#password", "wrong-password");
    await page.click("#portal-login-submit");
    assert.match((await page.textContent("#portal-login-error"))!, /Wrong name or password/);
    await page.fill("#name", "wendy");
    await page.fill("#password", "wendy-portal-pw");
    await page.click("#portal-login-submit");
    await page.waitForURL(`${base}/portal`);
    const grants = (await page.textContent("#portal-grants"))!;
    assert.match(grants, /web1/);
    assert.match(grants, /(59|60) min left|1 h left/);
    await page.waitForSelector("#portal-sessions");
    const sessions = (await page.textContent("#portal-sessions"))!;
    assert.match(sessions, /web1/);
    assert.match(sessions, /127\.0\.0\.30/);
    const body = (await page.textContent("body"))!;
    assert.doesNotMatch(body, /db9|postgres|bob/);
    await b.shot("portal-home");
    const serious = (await axeViolations(page)).filter((v) =>
      v.impact === "serious" || v.impact === "critical"
    );
    assert.deepEqual(serious, []);
    // the portal session opens no console page
    await page.goto(`${base}/users`);
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await page.goto(`${base}/portal`);
    await page.click("#portal-logout");
    await page.waitForURL(`${base}/portal/login?bye=1`);
    await page.goto(`${base}/portal/login`);
    const loginSerious = (await axeViolations(page)).filter((v) =>
      v.impact === "serious" || v.impact === "critical"
    );
    assert.deepEqual(loginSerious, []);
    const audit = JSON.parse(
      await cli.ok(["audit", "list", "--action", "portal.login", "--json"]),
    ) as unknown[];
    assert.equal(audit.length, 1);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await env.close();
  }
});
