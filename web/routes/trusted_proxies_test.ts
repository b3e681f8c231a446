// Route test: behind a reverse proxy named in trusted_proxies, the console's audit rows carry the address
// the proxy put in X-Forwarded-For; from anyone else the header is ignored.
import assert from "node:assert/strict";
import { createConsoleUser } from "../../db/console_users.ts";
import { hashPassword } from "../../policy/password.ts";
import { type Client, fixture } from "../testing.ts";

async function loginWith(c: Client, password: string, xff: string): Promise<number> {
  const html = await (await c.get("/login", { "X-Forwarded-For": xff })).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const r = await c.post("/login", { _csrf: token, name: "root", password, next: "/" }, {
    "X-Forwarded-For": xff,
  });
  await r.body?.cancel();
  return r.status;
}

Deno.test("trusted_proxies: X-Forwarded-For names the client only when a trusted proxy sent it", async () => {
  const fx = await fixture({ trustedProxies: ["10.0.0.0/8"] });
  try {
    await createConsoleUser(fx.db.sql, {
      name: "root",
      role: "admin",
      passwordHash: await hashPassword("pw-root-secret"),
    }, { actor: "test" });
    // through the reverse proxy (10.0.0.2): the client forged an entry on the left; the proxy appended the
    // real peer on the right
    assert.equal(await loginWith(fx.client("10.0.0.2"), "pw-root-secret", "203.0.113.9, 198.51.100.44"), 303);
    // straight to the console from 192.0.2.10, claiming to be someone else: the header is not read
    assert.equal(await loginWith(fx.client("192.0.2.10"), "wrong", "198.51.100.44"), 401);
    const rows = await fx.db.sql<{ action: string; source_ip: string }[]>`
      SELECT action, host(source_ip) AS source_ip FROM audit_log
      WHERE action IN ('console.login', 'console.login_failed') ORDER BY id`;
    assert.deepEqual([...rows].map((r) => ({ ...r })), [
      { action: "console.login", source_ip: "198.51.100.44" },
      { action: "console.login_failed", source_ip: "192.0.2.10" },
    ]);
  } finally {
    await fx.close();
  }
});

Deno.test("without trusted_proxies X-Forwarded-For is ignored", async () => {
  const fx = await fixture();
  try {
    await createConsoleUser(fx.db.sql, {
      name: "root",
      role: "admin",
      passwordHash: await hashPassword("pw-root-secret"),
    }, { actor: "test" });
    assert.equal(await loginWith(fx.client("10.0.0.2"), "pw-root-secret", "198.51.100.44"), 303);
    const [row] = await fx.db.sql<{ source_ip: string }[]>`
      SELECT host(source_ip) AS source_ip FROM audit_log WHERE action = 'console.login'`;
    assert.equal(row.source_ip, "10.0.0.2");
  } finally {
    await fx.close();
  }
});
