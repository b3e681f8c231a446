// Route tests: the policy wizard, list filters, revoke, delete, and explain access.
import assert from "node:assert/strict";
import { getPolicy, listPolicies } from "../../db/policies.ts";
import { explainAccess } from "../../db/access.ts";
import { listAudit } from "../../db/audit.ts";
import { type Client, fixture } from "../testing.ts";

async function seed(c: Client) {
  for (
    const [path, form] of [
      ["/users", { name: "alice", source_ips: "127.0.0.10" }],
      ["/servers", { name: "web1", address: "127.0.0.1", protocols: "ssh" }],
      ["/servers", { name: "win1", address: "127.0.0.2", protocols: ["ssh", "rdp"] }],
      ["/groups/server", { name: "linux" }],
      ["/groups/user", { name: "ops" }],
    ] as const
  ) {
    const r = await c.post(path, form as Record<string, string>);
    await r.body?.cancel();
    assert.equal(r.status, 303, path);
  }
}

/** Walks the wizard like a browser: each step posts every answer so far. */
async function wizard(c: Client, answers: Record<string, string>[]) {
  let values: Record<string, string> = {};
  let html = "";
  for (let step = 0; step < answers.length; step++) {
    values = { ...values, ...answers[step] };
    const r = await c.post("/policies/new", {
      ...values,
      step: String(step),
      go: step === 4 ? "create" : "next",
    });
    if (r.status === 303) return { res: r, html: "" };
    html = await r.text();
    if (r.status !== 200) return { res: r, html };
  }
  return { res: null, html };
}

Deno.test("policy wizard: five steps create a policy that explain access and the CLI's check agree on", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator", "opal");
    await seed(op);
    const start = await op.page("/policies/new?subject_kind=user&subject=alice");
    assert.match(start.html, /<li\s+class="current">1\. Subject<\/li>/);
    assert.match(start.html, /<option\s+value="alice" selected>/);
    const { res } = await wizard(op, [
      { subject_kind: "user", subject: "alice" },
      { scope_kind: "server_protocol", scope: "win1", protocol: "ssh" },
      { logins: "root, deploy", port_forwarding: "on" },
      { validity_mode: "duration", duration_minutes: "30" },
      {},
    ]);
    assert.equal(res?.status, 303);
    const location = res!.headers.get("Location")!;
    const id = Number(/\/policies\/(\d+)/.exec(location)![1]);
    await res!.body?.cancel();
    const p = await getPolicy(fx.db.sql, id);
    assert.equal(p.subject, "alice");
    assert.equal(p.scope, "win1");
    assert.deepEqual(p.protocols, ["ssh"]);
    assert.deepEqual(p.logins, ["root", "deploy"]);
    assert.equal(p.port_forwarding, true);
    assert.equal(p.created_by, "console:opal");
    assert.equal(p.valid_until.getTime() - p.valid_from.getTime(), 30 * 60_000);
    const detail = await op.page(location);
    assert.match(detail.html, /Policy created/);

    // explain access: same verdict as the function behind `jumphost access check`
    const form = { source_ip: "127.0.0.10", server: "win1", protocol: "ssh", login: "root", at: "" };
    const ex = await op.post("/access", form);
    const exHtml = await ex.text();
    assert.equal(ex.status, 200);
    const direct = await explainAccess(fx.db.sql, {
      sourceIp: "127.0.0.10",
      serverName: "win1",
      protocol: "ssh",
      login: "root",
    }, fx.clock.now);
    assert.equal(direct.decision.allowed, true);
    assert.match(exHtml, /ALLOW/);
    assert.match(exHtml, new RegExp(`policy <a href="/policies/${id}">#${id}</a>`));
    const rdp = await op.post("/access", { ...form, protocol: "rdp" });
    const rdpHtml = await rdp.text();
    const directRdp = await explainAccess(fx.db.sql, {
      sourceIp: "127.0.0.10",
      serverName: "win1",
      protocol: "rdp",
      login: "root",
    }, fx.clock.now);
    assert.equal(directRdp.decision.allowed, false);
    assert.match(
      rdpHtml,
      new RegExp(`DENY[^]*${directRdp.decision.allowed ? "" : directRdp.decision.reason}`),
    );
    assert.equal((await listAudit(fx.db.sql, { action: "access.check" })).length, 2);

    // revoke with a reason, then it shows in the revoked filter and explain says revoked
    const rv = await op.post(`/policies/${id}/revoke`, { reason: "ticket closed" });
    await rv.body?.cancel();
    assert.equal(rv.status, 303);
    const after = await getPolicy(fx.db.sql, id);
    assert.equal(after.status, "revoked");
    assert.equal(after.revoke_reason, "ticket closed");
    assert.equal(after.revoked_by, "console:opal");
    assert.match((await op.page("/policies?status=revoked")).html, new RegExp(`data-policy="${id}"`));
    assert.doesNotMatch((await op.page("/policies?status=active")).html, new RegExp(`data-policy="${id}"`));
    const again = await op.post(`/policies/${id}/revoke`, { reason: "" });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already revoked/);
    const explained = await op.post("/access", form);
    assert.match(await explained.text(), /DENY[^]*revoked/);

    const del = await op.post(`/policies/${id}/delete`);
    await del.body?.cancel();
    assert.equal(del.status, 303);
    assert.equal((await listPolicies(fx.db.sql)).length, 0);
    assert.equal((await op.page(`/policies/${id}`)).status, 404);
  } finally {
    await fx.close();
  }
});

Deno.test("policy wizard: a step with errors stays open with the message; back keeps answers; range validity", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("admin");
    await seed(op);
    const bad = await op.post("/policies/new", {
      step: "0",
      go: "next",
      subject_kind: "user",
      subject: "nobody",
    });
    assert.equal(bad.status, 400);
    const html = await bad.text();
    assert.match(html, /<li\s+class="current">1\. Subject<\/li>/);
    assert.match(
      html,
      /id="f-subject-err">no user named &quot;nobody&quot;|id="f-subject-err">no user named "nobody"/,
    );

    const proto = await op.post("/policies/new", {
      step: "1",
      go: "next",
      subject_kind: "user_group",
      subject: "ops",
      scope_kind: "server_protocol",
      scope: "web1",
      protocol: "rdp",
    });
    assert.equal(proto.status, 400);
    assert.match(await proto.text(), /web1 does not offer RDP/);

    const back = await op.post("/policies/new", {
      step: "2",
      go: "back",
      subject_kind: "user_group",
      subject: "ops",
      logins: "x",
    });
    const backHtml = await back.text();
    assert.match(backHtml, /<li\s+class="current">2\. Scope<\/li>/);
    assert.match(backHtml, /type="hidden" name="logins" value="x"/);

    const past = await op.post("/policies/new", {
      step: "3",
      go: "next",
      subject_kind: "user_group",
      subject: "ops",
      scope_kind: "server_group",
      scope: "linux",
      validity_mode: "range",
      valid_from: "",
      valid_until: "2020-01-01T00:00",
    });
    assert.equal(past.status, 400);
    assert.match(await past.text(), /already in the past/);

    // creating jumps back to the first invalid step even when later steps were posted
    const jump = await op.post("/policies/new", {
      step: "4",
      go: "create",
      subject_kind: "user",
      subject: "alice",
      scope_kind: "server",
      scope: "gone",
      validity_mode: "duration",
      duration_minutes: "10",
    });
    assert.equal(jump.status, 400);
    assert.match(await jump.text(), /<li\s+class="current">2\. Scope<\/li>/);

    const ok = await op.post("/policies/new", {
      step: "4",
      go: "create",
      subject_kind: "user_group",
      subject: "ops",
      scope_kind: "server_group",
      scope: "linux",
      validity_mode: "range",
      valid_from: "2099-06-02T08:00",
      valid_until: "2099-06-02T17:00",
    });
    assert.equal(ok.status, 303);
    await ok.body?.cancel();
    const [p] = await listPolicies(fx.db.sql);
    assert.equal(p.valid_from.toISOString(), "2099-06-02T08:00:00.000Z");
    assert.equal(p.status, "pending");
    assert.equal(p.subject_kind, "user_group");
    assert.equal(p.valid_until.toISOString(), "2099-06-02T17:00:00.000Z");
    assert.deepEqual(p.logins, []);
  } finally {
    await fx.close();
  }
});

Deno.test("explain access: invalid input inline; auditors cannot use it", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("admin");
    const r = await op.post("/access", {
      source_ip: "999.1.1.1",
      server: "",
      protocol: "telnet",
      at: "soon",
    });
    assert.equal(r.status, 400);
    const html = await r.text();
    for (const f of ["source_ip", "server", "protocol", "at"]) {
      assert.match(html, new RegExp(`id="f-${f}-err"`), f);
    }
    const a = await fx.as("auditor");
    assert.equal((await a.page("/access")).status, 403);
    const p = await a.post("/access", { source_ip: "127.0.0.1", server: "x", protocol: "ssh" });
    await p.body?.cancel();
    assert.equal(p.status, 403);
    assert.equal((await a.page("/policies")).status, 403);
    const w = await a.post("/policies/new", { step: "4", go: "create" });
    await w.body?.cancel();
    assert.equal(w.status, 403);
  } finally {
    await fx.close();
  }
});

Deno.test("policy wizard: weekly windows are validated per line, reviewed, stored canonical and shown", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("admin");
    await seed(op);
    const base = {
      subject_kind: "user",
      subject: "alice",
      scope_kind: "server",
      scope: "web1",
      validity_mode: "duration",
      duration_minutes: "600",
    };
    const bad = await op.post("/policies/new", {
      ...base,
      step: "3",
      go: "next",
      schedules: "Mon-Fri 08:00-18:00 Europe/Berlin\nSun 25:00-26:00 UTC",
    });
    assert.equal(bad.status, 400);
    assert.match(
      await bad.text(),
      /line 2: &quot;25:00&quot; is not a time HH:MM|line 2: "25:00" is not a time HH:MM/,
    );
    const review = await op.post("/policies/new", {
      ...base,
      step: "3",
      go: "next",
      schedules: "mon-fri 08:00-18:00 Europe/Berlin\n\nSat 10:00-12:00 UTC",
    });
    assert.equal(review.status, 200);
    assert.match(
      await review.text(),
      /id="review-schedules">mon-fri 08:00-18:00 Europe\/Berlin; Sat 10:00-12:00 UTC</,
    );
    const ok = await op.post("/policies/new", {
      ...base,
      step: "4",
      go: "create",
      schedules: "mon-fri 08:00-18:00 Europe/Berlin\nSat 10:00-12:00 UTC",
    });
    assert.equal(ok.status, 303);
    await ok.body?.cancel();
    const [p] = await listPolicies(fx.db.sql);
    assert.deepEqual(p.schedules, ["Mon,Tue,Wed,Thu,Fri 08:00-18:00 Europe/Berlin", "Sat 10:00-12:00 UTC"]);
    const page = await op.page(`/policies/${p.id}`);
    assert.match(
      page.html,
      /id="policy-schedules">Mon,Tue,Wed,Thu,Fri 08:00-18:00 Europe\/Berlin; Sat 10:00-12:00 UTC</,
    );
    const [created] = await listAudit(fx.db.sql, { action: "policy.create" });
    assert.deepEqual(created.details.schedules, p.schedules);
  } finally {
    await fx.close();
  }
});
