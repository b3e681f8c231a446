// Route tests: dashboard cards, charts and polling fragments; audit filters, pages and exports; console users.
import assert from "node:assert/strict";
import { writeAudit } from "../../db/audit.ts";
import { findConsoleUserByName } from "../../db/console_users.ts";
import { verifyPassword } from "../../policy/password.ts";
import { fixture, insertSession } from "../testing.ts";

Deno.test("dashboard: cards, charts, status, and the active-sessions fragment that polls every 5 s", async () => {
  const fx = await fixture();
  try {
    await insertSession(fx.db.sql, { active: true, user_name: "alice" });
    await insertSession(fx.db.sql, { active: true, user_name: "bob", protocol: "rdp" });
    await insertSession(fx.db.sql, { user_name: "alice" });
    await writeAudit(fx.db.sql, {
      actor: "alice",
      action: "ssh.access_denied",
      success: false,
      sourceIp: "192.0.2.1",
    });
    const a = await fx.as("auditor");
    const d = await a.page("/");
    assert.equal(d.status, 200);
    const card = (id: string) => new RegExp(`id="card-${id}"><div class="n">([^<]*)<`).exec(d.html)?.[1];
    assert.equal(card("active-ssh"), "1");
    assert.equal(card("active-rdp"), "1");
    assert.equal(card("users"), "2");
    assert.equal(card("servers"), "1");
    assert.equal(card("denials"), "1");
    assert.match(d.html, /hx-get="\/dashboard\/active" hx-trigger="every 5s"/);
    assert.match(d.html, /<svg class="chart" id="chart-hours"/);
    assert.equal(
      (d.html.match(/<rect class="bar"[^>]*data-value/g) ?? []).length,
      24 + 2,
      "24 hour bars + 2 users",
    );
    assert.match(d.html, /data-value="3"/, "3 sessions this hour");
    assert.match(d.html, /ssh listener/);
    assert.match(d.html, /127\.0\.0\.1:2222/);

    const frag = await a.get("/dashboard/active", { "HX-Request": "true", "X-JH-Poll": "1" });
    const html = await frag.text();
    assert.ok(!html.startsWith("<!doctype"), "a fragment, not a page");
    assert.equal((html.match(/data-session="/g) ?? []).length, 2);
    await insertSession(fx.db.sql, { active: true, user_name: "carol" });
    const frag2 = await (await a.get("/dashboard/active", { "HX-Request": "true" })).text();
    assert.equal((frag2.match(/data-session="/g) ?? []).length, 3, "the poll sees the new session");
    const cards = await (await a.get("/dashboard/cards", { "HX-Request": "true" })).text();
    assert.match(cards, /id="card-active-ssh"><div class="n">2</);
  } finally {
    await fx.close();
  }
});

Deno.test("audit: filters, inline filter errors, pages, CSV and JSON export of the same filter", async () => {
  const fx = await fixture();
  try {
    for (let i = 0; i < 130; i++) {
      await writeAudit(fx.db.sql, {
        actor: i % 2 ? "alice" : "bob",
        action: i % 3 ? "ssh.access_granted" : "ssh.access_denied",
        target: `=cmd|${i}`,
        success: i % 3 !== 0,
        sourceIp: i % 5 ? "10.0.0.1" : "192.0.2.9",
        details: { i },
      });
    }
    const a = await fx.as("auditor");
    const denied = await a.page("/audit?action=ssh.access_denied&success=no");
    assert.equal((denied.html.match(/data-audit-id=/g) ?? []).length, 44);
    const byIp = await a.page("/audit?ip=192.0.2.0/24&actor=bob");
    assert.equal((byIp.html.match(/data-audit-id=/g) ?? []).length, 13);
    const prefix = await a.page("/audit?action=ssh.");
    assert.equal((prefix.html.match(/data-audit-id=/g) ?? []).length, 100);
    const next = /id="next-page" href="([^"]+)"/.exec(prefix.html)![1].replaceAll("&amp;", "&");
    const page2 = await a.page(next);
    assert.equal((page2.html.match(/data-audit-id=/g) ?? []).length, 30);

    const bad = await a.page("/audit?ip=not-an-ip&from=2025-02-30&action=nope");
    assert.equal(bad.status, 400);
    assert.match(bad.html, /not an IP address or CIDR/);
    assert.match(bad.html, /value="not-an-ip"/);

    const csv = await a.get("/audit/export.csv?action=ssh.access_denied");
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("Content-Disposition")!, /attachment; filename="audit-\d{8}T\d{6}\.csv"/);
    const lines = (await csv.text()).trim().split("\r\n");
    assert.equal(lines[0], "id,at,actor,action,target,source_ip,success,details,node_id");
    assert.equal(lines.length, 1 + 44);
    assert.match(lines[1], /,'=cmd\|/, "formula cells neutralised");
    const json = await a.get("/audit/export.json?actor=alice");
    const rows = await json.json() as { actor: string }[];
    assert.equal(rows.length, 65 + 0);
    assert.ok(rows.every((r) => r.actor === "alice"));
    const badExport = await a.get("/audit/export.csv?ip=zzz");
    assert.equal(badExport.status, 400);
    await badExport.body?.cancel();
  } finally {
    await fx.close();
  }
});

Deno.test("console users: admin adds one (password shown once, works), deletes; cannot delete self; operator gets 403", async () => {
  const fx = await fixture();
  try {
    const admin = await fx.as("admin", "root");
    const r = await admin.post("/console-users", { name: "newbie", role: "operator" });
    assert.equal(r.status, 200);
    const html = await r.text();
    const pw = /id="new-password">([^<]+)</.exec(html)![1];
    const row = await findConsoleUserByName(fx.db.sql, "newbie");
    assert.equal(row?.role, "operator");
    assert.ok(await verifyPassword(pw, row!.password_hash));
    assert.doesNotMatch((await admin.page("/console-users")).html, new RegExp(pw), "shown once");
    const bad = await admin.post("/console-users", { name: "<x>", role: "boss" });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /id="f-name-err"/);
    assert.match(badHtml, /id="f-role-err"/);
    const dup = await admin.post("/console-users", { name: "newbie", role: "auditor" });
    assert.equal(dup.status, 409);
    assert.match(await dup.text(), /already exists/);
    const self = await admin.post("/console-users/root/delete");
    assert.equal(self.status, 409);
    await self.body?.cancel();
    const del = await admin.post("/console-users/newbie/delete");
    await del.body?.cancel();
    assert.equal(del.status, 303);
    assert.equal(await findConsoleUserByName(fx.db.sql, "newbie"), null);

    const op = await fx.as("operator");
    assert.equal((await op.page("/console-users")).status, 403);
    const p = await op.post("/console-users", { name: "x", role: "admin" });
    await p.body?.cancel();
    assert.equal(p.status, 403);
  } finally {
    await fx.close();
  }
});
