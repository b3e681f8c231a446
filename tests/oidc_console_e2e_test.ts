// Browser end to end: single sign-on to the console with a real OpenID provider (npm oidc-provider) started
// here, Chromium against startWeb. The role comes from the groups claim (oidc_role_*): accounts are made at
// the first sign-in, their role follows the claim at every sign-in, a user in no mapped group is refused
// (and their open console sessions end), a tampered state is refused, local accounts keep working; the
// login and refusal pages pass axe-core.
import assert from "node:assert/strict";
import { createTestDb, type TestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { type Browser, openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { freePort } from "./helpers/sshd.ts";
import { signInAtProvider, startOidcProvider, type TestOidcProvider } from "./helpers/oidc_provider.ts";
import { runCmd } from "./helpers/ssh_clients.ts";
import { resolveOidcConfig } from "../core/oidc/config.ts";
import { startWeb } from "../web/mod.ts";

interface SsoConsole {
  base: string;
  idp: TestOidcProvider;
  db: TestDb;
  dataDir: string;
  logs: string[];
  b: Browser;
  /** from the login page through the provider back to the console (or its refusal page) */
  ssoLogin(login: string): Promise<void>;
  close(): Promise<void>;
}

/** A provider, a database and the console served by startWeb with single sign-on; Chromium on it. */
async function ssoConsole(extra: Record<string, unknown>, artifacts: string): Promise<SsoConsole> {
  const webPort = freePort();
  const base = `http://127.0.0.1:${webPort}`;
  const idp = await startOidcProvider({ redirectUris: [`${base}/login/oidc/callback`] });
  const secretFile = await Deno.makeTempFile({ prefix: "jh-oidc-secret-" });
  await Deno.writeTextFile(secretFile, idp.clientSecret + "\n");
  const oidc = resolveOidcConfig(
    {
      oidc_issuer: idp.issuer,
      oidc_client_id: idp.clientId,
      oidc_client_secret_file: secretFile,
      oidc_scopes: "openid profile groups",
      oidc_provider_name: "Test IdP",
      oidc_role_admin: "jh-admins",
      oidc_role_operator: "jh-operators",
      oidc_role_auditor: ["jh-auditors"],
      oidc_allow_insecure: true,
      ...extra,
    },
    {},
    Deno.readTextFileSync,
  )!;
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-e2e-oidc-" });
  const logs: string[] = [];
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: webPort }],
      dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: "/nonexistent",
      ipPool: null,
      consoleMfa: "required",
      oidc,
    },
    {
      sql: db.sql,
      nodeId: "e2e-node",
      log: (level, m) => logs.push(`${level} ${m}`),
      listenerStatus: () => [],
      killSession: () => Promise.resolve(false),
    },
  );
  const b = await openBrowser(artifacts);
  const page = b.page;
  return {
    base,
    idp,
    db,
    dataDir,
    logs,
    b,
    async ssoLogin(login) {
      await page.context().clearCookies();
      await page.goto(`${base}/login`);
      await page.click("#login-sso");
      await signInAtProvider(page, login);
      // back at the console: the page after the continue step, or a refusal page
      await page.waitForURL((u) => u.origin === base && !u.pathname.startsWith("/login/oidc/callback"), {
        timeout: 15_000,
      }).catch(() => {});
      await page.waitForLoadState();
    },
    async close() {
      await b.close();
      await web.stop();
      await db.close();
      await idp.stop();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(secretFile);
    },
  };
}

Deno.test("console in Chromium: single sign-on with an OpenID provider, role from the groups claim", async () => {
  const { base, idp, db, dataDir, logs, b, ssoLogin, close } = await ssoConsole({}, "oidc_console");
  try {
    const page = b.page;
    const accountOf = async (name: string) =>
      (await db.sql<{ role: string; oidc_subject: string | null; password_hash: string }[]>`
        SELECT role, oidc_subject, password_hash FROM console_users WHERE name = ${name}`)[0];
    const auditRows = (action: string, target: string) =>
      db.sql<{ details: Record<string, unknown>; success: boolean }[]>`
        SELECT details, success FROM audit_log WHERE action = ${action} AND target = ${target} ORDER BY id`;

    // the login page offers the provider, and passes axe
    await page.goto(`${base}/login`);
    assert.equal((await page.textContent("#login-sso"))?.trim(), "Sign in with Test IdP");
    assert.deepEqual(await axeViolations(page), []);

    // alice (jh-admins) signs in: an SSO admin account is made, with no local password; the console's
    // required TOTP does not apply (oidc_trust_mfa defaults to on)
    idp.setGroups("alice", ["jh-admins", "unrelated"]);
    await ssoLogin("alice");
    assert.equal(new URL(page.url()).pathname, "/", `landed on ${page.url()}`);
    const alice = await accountOf("alice");
    assert.equal(alice.role, "admin");
    assert.equal(alice.oidc_subject, "alice");
    assert.equal(alice.password_hash, "!oidc");
    assert.equal((await page.goto(`${base}/console-users`))!.status(), 200);
    assert.match((await page.textContent("#console-users tbody"))!, /alice \(single sign-on\)/);
    const [made] = await auditRows("console.user_create", "alice");
    assert.deepEqual(made.details.sso, { issuer: idp.issuer, subject: "alice" });
    const logins = await auditRows("console.login", "alice");
    assert.equal(logins.length, 1);
    assert.equal(logins[0].details.via, "oidc");
    assert.equal(logins[0].details.provisioned, true);
    const aliceCookie = (await page.context().cookies()).find((c) => c.name === "jh_session")!.value;

    // bob (jh-auditors) maps to auditor: the console accounts page is refused
    idp.setGroups("bob", ["jh-auditors"]);
    await ssoLogin("bob");
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal((await accountOf("bob")).role, "auditor");
    assert.equal((await page.goto(`${base}/console-users`))!.status(), 403);

    // eve is in no mapped group: refused with a clear page, no account, an audit row
    idp.setGroups("eve", ["staff"]);
    await ssoLogin("eve");
    await page.waitForSelector("#sso-error");
    assert.match((await page.textContent("#sso-error"))!, /none of the groups/);
    assert.deepEqual(await axeViolations(page), []);
    assert.equal(await accountOf("eve"), undefined);
    const [eveRefused] = await auditRows("console.login_failed", "eve");
    assert.equal(eveRefused.details.reason, "no_console_role");
    assert.equal(eveRefused.details.via, "oidc");

    // alice moves to jh-auditors: her next sign-in makes her an auditor (audited); her open session of
    // before already sees the new role (roles are read per request)
    idp.setGroups("alice", ["jh-auditors"]);
    await ssoLogin("alice");
    assert.equal((await accountOf("alice")).role, "auditor");
    const [roleChange] = await auditRows("console.user_role", "alice");
    assert.equal(roleChange.details.from, "admin");
    assert.equal(roleChange.details.role, "auditor");
    const withOldCookie = await fetch(`${base}/console-users`, {
      headers: { Cookie: `jh_session=${aliceCookie}` },
      redirect: "manual",
    });
    await withOldCookie.body?.cancel();
    assert.equal(withOldCookie.status, 403);

    // alice leaves every mapped group: refused, and every console session she had ends now
    idp.setGroups("alice", []);
    await ssoLogin("alice");
    await page.waitForSelector("#sso-error");
    const ended = await fetch(`${base}/`, {
      headers: { Cookie: `jh_session=${aliceCookie}` },
      redirect: "manual",
    });
    await ended.body?.cancel();
    assert.equal(ended.status, 303);
    assert.match(ended.headers.get("location")!, /^\/login\?expired=1/);
    const revoked = (await auditRows("console.user_role", "alice")).at(-1)!;
    assert.equal(revoked.details.role, null);
    assert.ok((revoked.details.sessions_ended as number) >= 1);

    // a tampered state is refused (and audited); the flow cookie is spent
    idp.setGroups("bob", ["jh-auditors"]);
    await page.context().clearCookies();
    // the provider's redirect back is caught on its way: Playwright routes see only the first request of a
    // redirect chain, so the provider's answers are fetched here (the context's cookies go along) and its
    // redirects followed until one points at the console; that one is replaced by an empty page. Its code
    // and state are real.
    let callback: string | null = null;
    await page.route(`${idp.issuer}/**`, async (route) => {
      let res = await route.fetch({ maxRedirects: 0 });
      for (let hop = 0; hop < 5; hop++) {
        const location = res.headers()["location"];
        if (!location) break;
        const next = new URL(location, res.url()).toString();
        if (next.startsWith(`${base}/login/oidc/callback`)) {
          callback = next;
          return await route.fulfill({ status: 200, contentType: "text/html", body: "<title>held</title>" });
        }
        if (!next.startsWith(idp.issuer)) break;
        res = await page.context().request.get(next, { maxRedirects: 0 });
      }
      return await route.fulfill({ response: res });
    });
    await page.goto(`${base}/login`);
    await page.click("#login-sso");
    await signInAtProvider(page, "bob");
    for (let i = 0; i < 50 && callback === null; i++) await new Promise((r) => setTimeout(r, 100));
    await page.unrouteAll();
    assert.ok(callback, "the provider redirected back");
    const tampered = new URL(callback!);
    tampered.searchParams.set("state", tampered.searchParams.get("state")!.slice(0, -2) + "xx");
    const refusedPage = await page.goto(tampered.toString());
    assert.equal(refusedPage!.status(), 400);
    assert.match((await page.textContent("#sso-error"))!, /state does not match/);
    const stateRows = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM audit_log
      WHERE action = 'console.login_failed' AND details->>'reason' = 'state_mismatch'`;
    assert.equal(stateRows[0].n, 1);
    // the untampered answer no longer counts either: the flow cookie was read once
    const replay = await page.goto(callback!);
    assert.equal(replay!.status(), 400);
    assert.match((await page.textContent("#sso-error"))!, /not started here/);

    // break-glass: a local admin still logs in with a password
    const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
    const given = /password: (\S+)/.exec(await cli.ok(["admin", "add", "root", "--role", "admin"]))![1];
    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    await page.fill("#name", "root");
    await page.fill("#password", given);
    await page.click("#login-submit");
    await page.waitForLoadState();
    assert.equal(new URL(page.url()).pathname, "/account");
    // and an SSO account cannot log in with a password
    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    await page.fill("#name", "bob");
    await page.fill("#password", "!oidc");
    await page.click("#login-submit");
    await page.waitForSelector("#login-error");

    assert.deepEqual(b.errors, []);
    assert.ok(logs.some((l) => l.includes(`OpenID provider ${idp.issuer} discovered`)), logs.join("\n"));
    assert.ok(!logs.some((l) => l.includes(idp.clientSecret)), "the client secret is never logged");
  } finally {
    await close();
  }
});

/** oathtool's code for the secret at now + offset seconds. */
async function oathtool(secret: string, offsetS = 0): Promise<string> {
  const at = Math.floor(Date.now() / 1000) + offsetS;
  const r = await runCmd("oathtool", ["--totp", "-b", secret, "-N", `@${at}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test("console in Chromium: with oidc_trust_mfa = false an SSO account enrols TOTP and gives a code after the provider", async () => {
  const { base, idp, db, b, ssoLogin, close } = await ssoConsole(
    { oidc_trust_mfa: false },
    "oidc_console_mfa",
  );
  try {
    const page = b.page;
    idp.setGroups("carol", ["jh-operators"]);
    // console_mfa = required applies to SSO accounts too: the first sign-in leads to enrolment
    await ssoLogin("carol");
    await page.waitForURL(`${base}/account`);
    await page.click("#totp-enrol");
    const secret = (await page.textContent("#totp-secret"))!.trim();
    await page.fill("#totp-code", await oathtool(secret));
    await page.click("#totp-confirm");
    await page.waitForURL(`${base}/account?totp=on`);

    // the next sign-in: the provider, then the console's own code
    await ssoLogin("carol");
    await page.waitForSelector("#code-form");
    assert.deepEqual(await axeViolations(page), []);
    await page.fill("#code", await oathtool(secret, 30));
    await page.click("#code-submit");
    await page.waitForURL(`${base}/`);
    const [login] = await db.sql<{ details: { mfa: string } }[]>`
      SELECT details FROM audit_log WHERE action = 'console.login' AND target = 'carol' ORDER BY id DESC LIMIT 1`;
    assert.equal(login.details.mfa, "totp");
    assert.deepEqual(b.errors, []);
  } finally {
    await close();
  }
});
