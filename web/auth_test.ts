// Route tests for login, logout, timeouts, throttling, lockout, CSRF and roles (real PostgreSQL).
import assert from "node:assert/strict";
import { listAudit } from "../db/audit.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { Client, fixture } from "./testing.ts";
import { safeNext } from "./auth.ts";
import { hashPassword, verifyPassword } from "../policy/password.ts";

Deno.test("login page renders with a CSRF field and assets served locally", async () => {
  const fx = await fixture();
  try {
    const c = fx.client();
    const { status, html, res } = await c.page("/login");
    assert.equal(status, 200);
    assert.match(html, /name="_csrf" value="[A-Za-z0-9_-]{43}"/);
    assert.match(html, /src="\/static\/htmx\.min\.js\?v=/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, "no external URLs");
    assert.match(res.headers.get("Content-Security-Policy") ?? "", /script-src 'self'/);
    const js = await c.get(html.match(/\/static\/htmx\.min\.js\?v=[^"]+/)![0]);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("Cache-Control") ?? "", /immutable/);
    assert.ok((await js.text()).includes("htmx"));
  } finally {
    await fx.close();
  }
});

Deno.test("while no console admin exists the login page says how to create one; it goes once one exists", async () => {
  const fx = await fixture({ firstAdminCommand: "deno task cli admin add admin" });
  try {
    const c = fx.client();
    const before = await c.page("/login");
    assert.match(before.html, /id="no-admin"/);
    assert.match(before.html, /No console admin exists yet/);
    assert.match(before.html, /<code>deno task cli admin add admin<\/code>/);
    // an operator alone does not count: nobody could manage the console
    await createConsoleUser(fx.db.sql, { name: "olga", role: "operator", passwordHash: "x" }, {
      actor: "test",
    });
    assert.match((await c.page("/login")).html, /id="no-admin"/);
    await createConsoleUser(fx.db.sql, { name: "root", role: "admin", passwordHash: "x" }, { actor: "test" });
    const after = await c.page("/login");
    assert.equal(after.status, 200);
    assert.doesNotMatch(after.html, /no-admin|No console admin/);
  } finally {
    await fx.close();
  }
});

Deno.test("unauthenticated pages redirect to login; unknown paths too", async () => {
  const fx = await fixture();
  try {
    const c = fx.client();
    for (const p of ["/", "/sessions", "/audit", "/no/such/page"]) {
      const r = await c.get(p);
      await r.body?.cancel();
      assert.equal(r.status, 303, p);
      assert.match(r.headers.get("Location") ?? "", /^\/login\?/);
    }
    const hx = await c.get("/dashboard/active", { "HX-Request": "true" });
    await hx.body?.cancel();
    assert.equal(hx.status, 401);
    assert.match(hx.headers.get("HX-Redirect") ?? "", /^\/login/);
  } finally {
    await fx.close();
  }
});

Deno.test("a correct login sets a HttpOnly SameSite cookie, is audited, and logout ends the session", async () => {
  const fx = await fixture();
  try {
    const admin = await fx.as("admin", "root-admin");
    const dash = await admin.page("/");
    assert.equal(dash.status, 200);
    assert.match(dash.html, /root-admin/);
    // the cookie attributes
    const c = new Client(fx.app, "192.0.2.99");
    const form = await (await c.get("/login")).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1];
    const r = await c.post("/login", { _csrf: token, name: "root-admin", password: "pw-root-admin-secret" });
    await r.body?.cancel();
    const sc = r.headers.getSetCookie().find((x) => x.startsWith("jh_session="))!;
    assert.match(sc, /HttpOnly/);
    assert.match(sc, /SameSite=Strict/);
    assert.match(sc, /Path=\//);
    assert.doesNotMatch(sc, /Secure/);

    const out = await admin.post("/logout");
    await out.body?.cancel();
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("Location"), "/login?bye=1");
    const after = await admin.get("/");
    await after.body?.cancel();
    assert.equal(after.status, 303);

    const actions = (await listAudit(fx.db.sql, { actor: "console:root-admin" })).map((a) => a.action).sort();
    assert.deepEqual(actions, ["console.login", "console.login", "console.logout"]);
  } finally {
    await fx.close();
  }
});

Deno.test("Secure cookies use the __Host- prefix when served over TLS", async () => {
  const fx = await fixture({ secureCookies: true });
  try {
    const c = await fx.as("admin");
    assert.ok(c.cookies.has("__Host-jh_session"));
    const r = await c.page("/");
    assert.equal(r.status, 200);
    assert.match(r.res.headers.get("Strict-Transport-Security") ?? "", /max-age/);
  } finally {
    await fx.close();
  }
});

Deno.test("a wrong password fails with a generic message and is audited", async () => {
  const fx = await fixture();
  try {
    await fx.as("admin", "boss");
    const c = fx.client("198.51.100.7");
    const r = await c.login("boss", "wrong");
    assert.equal(r.status, 401);
    const html = await r.text();
    assert.match(html, /Wrong name or password/);
    assert.match(html, /value="boss"/, "typed name kept");
    const r2 = await c.login("nobody", "x");
    assert.equal(r2.status, 401);
    assert.match(await r2.text(), /Wrong name or password/);
    const fails = await listAudit(fx.db.sql, { action: "console.login_failed" });
    assert.equal(fails.length, 2);
    assert.deepEqual(fails.map((f) => f.details.reason).sort(), ["bad_credentials", "unknown_user"]);
    assert.equal(fails[0].source_ip, "198.51.100.7");
  } finally {
    await fx.close();
  }
});

Deno.test("five failures lock the account for 15 minutes; while locked the password is not looked at", async () => {
  const fx = await fixture();
  try {
    await fx.as("operator", "op");
    const c = fx.client("198.51.100.8");
    for (let i = 0; i < 5; i++) await (await c.login("op", "bad")).body?.cancel();
    // the same answer for the right and a wrong password: the lock is no oracle
    const right = await c.login("op", "pw-op-secret");
    const wrong = await c.login("op", "still-wrong");
    assert.equal(right.status, 429);
    assert.equal(wrong.status, 429);
    const [a, b] = [await right.text(), await wrong.text()];
    assert.match(a, /locked/);
    const strip = (h: string) => h.replace(/value="[A-Za-z0-9_-]{43}"/g, "").replace(/nonce="[^"]+"/g, "");
    assert.equal(strip(a), strip(b), "the two answers are the same page");
    assert.equal((await listAudit(fx.db.sql, { action: "console.locked" })).length, 1);
    const fails = await listAudit(fx.db.sql, { action: "console.login_failed" });
    assert.deepEqual(fails.slice(0, 2).map((f) => f.details.reason), ["locked", "locked"]);
    fx.clock.now = new Date(fx.clock.now.getTime() + 15 * 60_000 + 1000);
    const ok = await c.login("op", "pw-op-secret");
    assert.equal(ok.status, 303);
  } finally {
    await fx.close();
  }
});

Deno.test("account failures add up across source addresses", async () => {
  const fx = await fixture();
  try {
    await fx.as("operator", "op");
    for (let i = 0; i < 5; i++) {
      await (await fx.client(`198.51.100.${20 + i}`).login("op", "bad")).body?.cancel();
    }
    const r = await fx.client("198.51.100.99").login("op", "pw-op-secret");
    assert.equal(r.status, 429);
    assert.match(await r.text(), /locked/);
  } finally {
    await fx.close();
  }
});

Deno.test("safeNext() keeps same-origin paths only", () => {
  assert.equal(safeNext("/sessions?x=1#y"), "/sessions?x=1#y");
  assert.equal(safeNext("/a/../audit"), "/audit");
  for (
    const bad of [
      "/\t/evil.example",
      "/\n/evil.example",
      "//evil.example",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "evil.example",
      "/ /evil.example",
      "/\u0000/evil",
      "/login?next=/x",
      "/logout",
      "",
      null,
    ]
  ) {
    assert.equal(safeNext(bad), "/", JSON.stringify(bad));
  }
});

Deno.test("a login with next=/<TAB>/evil.example lands on the console, not off-site", async () => {
  const fx = await fixture();
  try {
    await fx.as("operator", "op");
    const c = fx.client();
    const page = await c.page("/login?next=%2F%09%2Fevil.example");
    assert.doesNotMatch(page.html, /evil\.example/);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.html)![1];
    const r = await c.post("/login", {
      _csrf: token,
      name: "op",
      password: "pw-op-secret",
      next: "/\t/evil.example",
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("Location"), "/");
  } finally {
    await fx.close();
  }
});

Deno.test("a source address is blocked after 20 failures across accounts", async () => {
  const fx = await fixture({ limits: { source: { windowMs: 60_000, maxFailures: 3, blockMs: 60_000 } } });
  try {
    await fx.as("auditor", "aud");
    const attacker = fx.client("203.0.113.5");
    for (const n of ["a", "b", "c"]) await (await attacker.login(n, "x")).body?.cancel();
    const r = await attacker.login("aud", "pw-aud-secret");
    assert.equal(r.status, 429);
    assert.match(await r.text(), /Too many failed logins/);
    // another address is not affected
    const other = await fx.client("203.0.113.6").login("aud", "pw-aud-secret");
    assert.equal(other.status, 303);
    fx.clock.now = new Date(fx.clock.now.getTime() + 61_000);
    assert.equal((await attacker.login("aud", "pw-aud-secret")).status, 303);
  } finally {
    await fx.close();
  }
});

Deno.test("idle and absolute timeouts end console sessions", async () => {
  const fx = await fixture({ limits: { idleMs: 10 * 60_000, absoluteMs: 60 * 60_000 } });
  try {
    const c = await fx.as("admin");
    const t0 = fx.clock.now.getTime();
    // activity every 9 minutes keeps it alive, until the absolute limit
    for (let m = 9; m < 60; m += 9) {
      fx.clock.now = new Date(t0 + m * 60_000);
      assert.equal((await c.page("/audit")).status, 200, `minute ${m}`);
    }
    fx.clock.now = new Date(t0 + 60 * 60_000);
    const r = await c.get("/audit");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.match(r.headers.get("Location")!, /expired=1/);

    const d = await fx.as("auditor");
    const t1 = fx.clock.now.getTime();
    // background polls do not count as activity
    fx.clock.now = new Date(t1 + 5 * 60_000);
    const poll = await d.get("/dashboard/active", { "HX-Request": "true", "X-JH-Poll": "1" });
    await poll.body?.cancel();
    assert.equal(poll.status, 200);
    fx.clock.now = new Date(t1 + 10 * 60_000 + 1);
    const idle = await d.get("/");
    await idle.body?.cancel();
    assert.equal(idle.status, 303);
  } finally {
    await fx.close();
  }
});

Deno.test("POSTs without the CSRF token or from another origin are refused", async () => {
  const fx = await fixture();
  try {
    const c = await fx.as("admin");
    const noToken = await c.post("/console-users", { _csrf: "", name: "x1", role: "auditor" });
    assert.equal(noToken.status, 403);
    assert.match(await noToken.text(), /stale or came from another site/);
    const wrong = await c.post("/console-users", { _csrf: "A".repeat(43), name: "x2", role: "auditor" });
    assert.equal(wrong.status, 403);
    await wrong.body?.cancel();
    const cross = await c.post("/console-users", { name: "x3", role: "auditor" }, {
      Origin: "https://evil.example",
    });
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
    const header = await c.request("/console-users", {
      method: "POST",
      headers: { "X-CSRF-Token": c.csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: "name=x4&role=auditor",
    });
    assert.equal(header.status, 200);
    await header.body?.cancel();
    const names = (await fx.db.sql`SELECT name FROM console_users ORDER BY name`).map((r) => r.name);
    assert.deepEqual(names, ["admin", "x4"]);
    // the login form has its own double-submit token
    const fresh = fx.client();
    const r = await fresh.post("/login", { _csrf: "forged", name: "admin", password: "pw-admin-secret" });
    assert.equal(r.status, 403);
    await r.body?.cancel();
  } finally {
    await fx.close();
  }
});

Deno.test("an auditor can read but cannot POST or see management pages", async () => {
  const fx = await fixture();
  try {
    const a = await fx.as("auditor", "eve");
    for (const p of ["/", "/sessions", "/audit"]) assert.equal((await a.page(p)).status, 200, p);
    for (const p of ["/console-users"]) {
      const r = await a.page(p);
      assert.equal(r.status, 403, p);
      assert.match(r.html, /403/);
    }
    const r = await a.post("/console-users", { name: "sneaky", role: "admin" });
    assert.equal(r.status, 403);
    await r.body?.cancel();
    const dash = await a.page("/");
    assert.doesNotMatch(dash.html, /href="\/console-users"/);
  } finally {
    await fx.close();
  }
});

Deno.test("errors never show stack traces; the log gets them with a reference", async () => {
  const fx = await fixture({
    listenerStatus: () => {
      throw new Error("boom at secret/place.ts:12");
    },
  });
  try {
    const c = await fx.as("admin");
    const r = await c.page("/");
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.html, /boom|secret\/place|at /);
    const ref = /Reference: ([0-9a-f]{8})/.exec(r.html)![1];
    assert.ok(
      fx.logs.some((l) => l.level === "error" && l.message.includes(ref) && l.message.includes("boom")),
    );
  } finally {
    await fx.close();
  }
});

Deno.test("safe redirects after login: only local paths", async () => {
  const fx = await fixture();
  try {
    await fx.as("admin", "ad");
    for (
      const [next, want] of [["/audit?x=1", "/audit?x=1"], ["//evil.example/", "/"], [
        "https://evil.example",
        "/",
      ]]
    ) {
      const c = fx.client();
      const form = await (await c.get("/login")).text();
      const token = /name="_csrf" value="([^"]+)"/.exec(form)![1];
      const r = await c.post("/login", { _csrf: token, name: "ad", password: "pw-ad-secret", next });
      await r.body?.cancel();
      assert.equal(r.headers.get("Location"), want);
    }
  } finally {
    await fx.close();
  }
});

Deno.test("a console password hashed at the old cost (N=2^14) is rehashed at OWASP's at the next login", async () => {
  const fx = await fixture();
  try {
    const old = await hashPassword("pw-legacy-secret", { N: 16384, r: 8, p: 1 });
    await createConsoleUser(fx.db.sql, { name: "legacy", role: "auditor", passwordHash: old }, {
      actor: "test",
    });
    const r = await fx.client().login("legacy", "pw-legacy-secret");
    assert.equal(r.status, 303);
    const [row] = await fx.db.sql<{ password_hash: string }[]>`
      SELECT password_hash FROM console_users WHERE name = 'legacy'`;
    assert.match(row.password_hash, /^scrypt\$131072\$8\$1\$/);
    assert.ok(await verifyPassword("pw-legacy-secret", row.password_hash));
    assert.equal((await fx.client().login("legacy", "pw-legacy-secret")).status, 303);
  } finally {
    await fx.close();
  }
});
