// Single sign-on routes when things go wrong, through HTTP against a real database: the provider cannot be
// reached (the console and local accounts keep working, the button answers with a readable page), and a
// callback that this browser did not start is refused and audited. The happy paths run in Chromium against a
// real provider: tests/oidc_console_e2e_test.ts.
import assert from "node:assert/strict";
import { fixture, TEST_SECRET_KEY } from "../testing.ts";
import { sealText } from "../../core/secret_box.ts";
import { resolveOidcConfig } from "../../core/oidc/config.ts";
import { createOidcClient, OidcError } from "../oidc/client.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const SECRET = "never-in-a-log-0123456789";

function unreachableClient() {
  return createOidcClient(
    resolveOidcConfig(
      {
        oidc_issuer: `http://127.0.0.1:${closedPort()}`,
        oidc_client_id: "jumphost",
        oidc_client_secret: SECRET,
        oidc_provider_name: "Corp SSO",
        oidc_role_admin: "admins",
        oidc_allow_insecure: true,
      },
      {},
      () => "",
    )!,
  );
}

Deno.test("oidc: an unreachable provider is a clear error; the console and local logins keep working", async () => {
  const oidc = unreachableClient();
  await assert.rejects(
    oidc.ready(),
    (e) => e instanceof OidcError && e.code === "unreachable" && e.message.includes(oidc.config.issuer),
  );
  const fx = await fixture({ oidc });
  try {
    const anon = fx.client();
    const login = await anon.page("/login");
    assert.equal(login.status, 200);
    assert.match(
      login.html,
      /<a href="\/login\/oidc" class="button" id="login-sso">Sign in with Corp SSO<\/a>/,
    );

    const start = await anon.page("/login/oidc?next=%2Fsessions");
    assert.equal(start.status, 503);
    assert.match(start.html, /Corp SSO cannot be reached right now/);
    assert.match(start.html, /log in with a local account/);
    assert.doesNotMatch(start.html, /at .*\.ts:\d+/);
    assert.ok(fx.logs.some((l) => l.level === "warn" && l.message.includes("did not answer discovery")));
    assert.ok(!fx.logs.some((l) => l.message.includes(SECRET)));

    const admin = await fx.as("admin", "breakglass");
    assert.equal((await admin.page("/console-users")).status, 200);
  } finally {
    await fx.close();
  }
});

Deno.test("oidc: a callback this browser did not start, or with a forged flow cookie, is refused and audited", async () => {
  const fx = await fixture({ oidc: unreachableClient() });
  try {
    const anon = fx.client();
    const bare = await anon.page("/login/oidc/callback?code=abc&state=xyz");
    assert.equal(bare.status, 400);
    assert.match(bare.html, /was not started here/);
    assert.match(bare.html, /href="\/login"/);

    anon.cookies.set("jh_oidc_flow", "sb1.0123456789abcdef.AAAA.BBBB");
    const forged = await anon.page("/login/oidc/callback?code=abc&state=xyz");
    assert.equal(forged.status, 400);
    assert.equal(anon.cookies.has("jh_oidc_flow"), false, "the flow cookie is cleared");

    const rows = await fx.db.sql<{ details: { via: string; reason: string }; success: boolean }[]>`
      SELECT details, success FROM audit_log WHERE action = 'console.login_failed' ORDER BY id`;
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.success, false);
      assert.equal(r.details.via, "oidc");
      assert.equal(r.details.reason, "no_flow");
    }
  } finally {
    await fx.close();
  }
});

/** A flow cookie as /login/oidc would have set it. */
function flowCookie(state: string, expires: number): string {
  return sealText(
    TEST_SECRET_KEY,
    JSON.stringify({
      state,
      nonce: "n",
      verifier: "v".repeat(43),
      redirectUrl: "http://localhost/login/oidc/callback",
      next: "/",
      expires,
    }),
    "console:oidc_flow",
  );
}

Deno.test("oidc: a provider's refusal, a state that does not match and an expired sign-in each get their page and audit row", async () => {
  const fx = await fixture({ oidc: unreachableClient() });
  try {
    const anon = fx.client();
    anon.cookies.set("jh_oidc_flow", flowCookie("the-state", fx.clock.now.getTime() + 60_000));
    const denied = await anon.page("/login/oidc/callback?error=access_denied&state=the-state");
    assert.equal(denied.status, 401);
    assert.match(denied.html, /Corp SSO did not sign you in \(access_denied\)/);

    anon.cookies.set("jh_oidc_flow", flowCookie("the-state", fx.clock.now.getTime() + 60_000));
    const mismatch = await anon.page("/login/oidc/callback?code=abc&state=other-state");
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.html, /its state does not match/);

    anon.cookies.set("jh_oidc_flow", flowCookie("the-state", fx.clock.now.getTime() - 1));
    const expired = await anon.page("/login/oidc/callback?code=abc&state=the-state");
    assert.equal(expired.status, 400);
    assert.match(expired.html, /took longer than ten minutes/);

    const reasons = await fx.db.sql<{ reason: string }[]>`
      SELECT details->>'reason' AS reason FROM audit_log WHERE action = 'console.login_failed' ORDER BY id`;
    assert.deepEqual(reasons.map((r) => r.reason), ["provider_error", "state_mismatch", "no_flow"]);
  } finally {
    await fx.close();
  }
});
