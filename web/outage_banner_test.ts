// During a database outage (as serve's probe reports it) every page carries the banner, the login page
// included, and /healthz says since when; without an outage there is no banner.
import assert from "node:assert/strict";
import { fixture } from "./testing.ts";
import { MetricsHub } from "../core/metrics/registry.ts";
import type { DbHealth } from "./deps.ts";

Deno.test("the console shows an outage banner and /healthz reports the outage from serve's probe", async () => {
  const since = new Date("2026-12-04T10:11:12Z");
  let health: DbHealth = { up: true, since: null, error: null, restarts: 0 };
  const fx = await fixture({ dbHealth: () => health, ops: { hub: new MetricsHub(), metricsToken: null } });
  try {
    const admin = await fx.as("admin");
    const calm = await admin.get("/");
    assert.equal(calm.status, 200);
    assert.doesNotMatch(await calm.text(), /db-outage/);

    health = { up: false, since, error: "connect ECONNREFUSED", restarts: 1 };
    const page = await admin.get("/");
    assert.match(
      await page.text(),
      /id="db-outage"[^>]*>.*The database is unreachable.* since 2026-12-04 10:11:12/s,
    );
    const login = await fx.client().get("/login");
    assert.match(await login.text(), /id="db-outage"/);
    const h = await fx.client().get("/healthz");
    const body = await h.json();
    assert.equal(body.database_down_since, since.toISOString());
    assert.equal(body.database_restarts, 1);
  } finally {
    await fx.close();
  }
});
