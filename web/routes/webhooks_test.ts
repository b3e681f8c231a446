// /webhooks: admins add (secret write-only, sealed), see the delivery log, remove; others are refused.
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { writeAudit } from "../../db/audit.ts";
import { fixture } from "../testing.ts";

Deno.test("/webhooks: add with validation, the secret never shown, deliveries listed, remove; admins only", async () => {
  const fx = await fixture();
  try {
    const admin = await fx.as("admin", "root");
    assert.equal((await admin.page("/webhooks")).status, 200);
    const bad = await admin.post("/webhooks", {
      url: "ftp://x/",
      events: "session.kill",
      secret: "s".repeat(20),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /only http and https URLs/);
    const badEvents = await admin.post("/webhooks", {
      url: "https://hooks.example/x",
      events: "Not An Event",
      secret: "s".repeat(20),
    });
    assert.equal(badEvents.status, 400);
    assert.match(await badEvents.text(), /is not an audit action/);
    const ok = await admin.post("/webhooks", {
      url: "https://hooks.example/x?token=abc",
      events: "session.kill, system.",
      secret: "a-very-secret-webhook-secret",
    });
    assert.equal(ok.status, 303);
    await ok.body?.cancel();
    await writeAudit(fx.db.sql, {
      actor: "console:root",
      action: "session.kill",
      target: "s1",
      success: true,
    }, "n");
    const page = await admin.page("/webhooks");
    assert.match(page.html, /https:\/\/hooks\.example\/x\?…/);
    assert.match(page.html, /session\.kill, system\./);
    assert.doesNotMatch(page.html, /a-very-secret|token=abc/);
    assert.match(page.html, /<td>session\.kill<\/td><td>pending<\/td>|<td>session.kill<\/td>/);
    const [created] = await listAudit(fx.db.sql, { action: "webhook.create" });
    assert.equal(created.actor, "console:root");
    assert.doesNotMatch(JSON.stringify(created.details), /token=abc|a-very-secret/);
    const [{ secret_sealed }] = await fx.db.sql<
      { secret_sealed: string }[]
    >`SELECT secret_sealed FROM webhooks`;
    assert.ok(secret_sealed.startsWith("sb1."), "sealed at rest");
    // an operator may not
    const op = await fx.as("operator", "olga");
    const denied = await op.get("/webhooks");
    await denied.body?.cancel();
    assert.equal(denied.status, 403);
    const del = await admin.post("/webhooks/1/delete");
    await del.body?.cancel();
    assert.equal(del.status, 303);
    assert.equal((await listAudit(fx.db.sql, { action: "webhook.delete" })).length, 1);
  } finally {
    await fx.close();
  }
});
