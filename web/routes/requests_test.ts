// /requests: the queue (page, polled fragment, nav badge), a request's page with approve/deny forms (CSRF),
// shortening, self-approval and auditors refused, denial with a reason; a real database and the real login.
import assert from "node:assert/strict";
import { fixture } from "../testing.ts";
import { createUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createAccessRequest } from "../../db/access_requests.ts";
import { listAudit } from "../../db/audit.ts";

Deno.test("/requests: queue, badge, approve (shortened) and deny from the console; self and auditors refused", async () => {
  const fx = await fixture();
  try {
    const sql = fx.db.sql;
    const carol = await createUser(sql, { name: "carol" }, "test");
    await createServer(sql, { name: "web1", address: "127.0.0.1" }, "test", null);
    const ask = (minutes: number, reason: string) =>
      createAccessRequest(sql, {
        userId: carol.id,
        userName: "carol",
        serverName: "web1",
        protocol: "ssh",
        logins: ["root", "deploy"],
        minutes,
        reason,
        sourceIp: "127.0.0.30",
        via: "ssh_prompt",
        waitMinutes: 10,
      });
    const r1 = await ask(90, "restart <nginx>");
    const r2 = await ask(30, "look at the logs");

    const admin = await fx.as("admin", "root");
    const home = await admin.page("/");
    assert.match(home.html, /href="\/requests"[^>]*>\s*Requests\s*<span[^>]*hx-get="\/requests\/badge"/);
    const badge = await admin.get("/requests/badge");
    assert.equal(await badge.text(), "2");
    const queue = await admin.page("/requests");
    assert.equal(queue.status, 200);
    assert.match(queue.html, /hx-get="\/requests\/queue" hx-trigger="every 5s"/);
    assert.match(queue.html, /restart (&lt;|&#60;)nginx(&gt;|&#62;|>)/, "escaped");
    assert.doesNotMatch(queue.html, /<nginx>/);
    const frag = await admin.request("/requests/queue", { headers: { "HX-Request": "true" } });
    const fragHtml = await frag.text();
    assert.match(fragHtml, /^<table id="requests-queue"/);
    assert.match(fragHtml, /look at the logs/);

    // the request's page: forms with CSRF; a lengthened approval is refused with the reason
    const detail = await admin.page(`/requests/${r1.id}`);
    assert.match(detail.html, /id="approve-form"[\s\S]*name="_csrf"|id="approve-form"[\s\S]*type="hidden"/);
    assert.match(detail.html, /at most 90/);
    const longer = await admin.post(`/requests/${r1.id}/approve`, { minutes: "120" });
    assert.equal(longer.status, 400);
    assert.match(await longer.text(), /never lengthen: at most 90 minutes/);
    const ok = await admin.post(`/requests/${r1.id}/approve`, {
      minutes: "45",
      logins: "deploy",
      note: "go",
    });
    assert.equal(ok.status, 303);
    assert.match(
      decodeURIComponent(ok.headers.get("location") ?? ""),
      /approved: 45 min as deploy \(policy \d+\)/,
    );
    await ok.body?.cancel();
    const [pol] = await sql<{ logins: string[]; access_request_id: number }[]>`
      SELECT logins, access_request_id FROM policies`;
    assert.deepEqual(pol.logins, ["deploy"]);
    assert.equal(Number(pol.access_request_id), r1.id);
    const [approved] = await listAudit(sql, { action: "request.approved" });
    assert.equal(approved.actor, "console:root");

    // carol also has a console account: the same person, so not her own request
    const self = await fx.as("operator", "carol");
    const selfPage = await self.page(`/requests/${r2.id}`);
    assert.match(selfPage.html, /nobody may decide their own request/);
    assert.doesNotMatch(selfPage.html, /id="approve-form"/);
    const selfPost = await self.post(`/requests/${r2.id}/approve`, {});
    assert.equal(selfPost.status, 400);
    await selfPost.body?.cancel();
    // an auditor may look, not decide
    const aud = await fx.as("auditor", "ada");
    assert.equal((await aud.page("/requests")).status, 200);
    const audPost = await aud.post(`/requests/${r2.id}/deny`, { reason: "no way" });
    assert.equal(audPost.status, 400);
    assert.match(await audPost.text(), /only admins and operators decide requests/);
    // a form without the CSRF token is refused
    const forged = await admin.request(`/requests/${r2.id}/deny`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "reason=forged+request",
    });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();

    // deny needs a reason; then denied
    const noReason = await admin.post(`/requests/${r2.id}/deny`, { reason: "" });
    assert.equal(noReason.status, 400);
    await noReason.body?.cancel();
    const denied = await admin.post(`/requests/${r2.id}/deny`, { reason: "not during the freeze" });
    assert.equal(denied.status, 303);
    await denied.body?.cancel();
    assert.equal(await (await admin.get("/requests/badge")).text(), "");
    const after = await admin.page("/requests");
    assert.match(after.html, /No pending requests\./);
    assert.match(after.html, /not during the freeze/);
    assert.equal((await admin.page("/requests/abc")).status, 404);
    assert.equal((await listAudit(sql, { action: "request.refused" })).length, 3);
  } finally {
    await fx.close();
  }
});
