// Access-request notifications end to end, on a real PostgreSQL with a local HTTP receiver: an endpoint
// subscribed to "request." gets a signed POST for a request created (as the SSH proxy creates it), approved and
// denied through the CLI, and expired by serve's expiry pass; each body's Slack `text` names user, server,
// minutes and reason, so an approver can act from the chat line. An endpoint subscribed only to
// request.approved gets that one alone.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { freePort } from "./helpers/sshd.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { verifySignature } from "../core/webhook_format.ts";
import { deliverDue } from "../app/webhook_service.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { createAccessRequest, expireDueRequests } from "../db/access_requests.ts";

interface Received {
  path: string;
  body: string;
  headers: Headers;
}

Deno.test("request webhooks: created, approved, denied and expired requests reach a subscribed endpoint, signed", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-request-hooks-" });
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  const port = freePort();
  const got: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    got.push({ path: new URL(req.url).pathname, body: await req.text(), headers: req.headers });
    return new Response("ok");
  });
  try {
    const secret = "request-hooks-secret-0123456789";
    await cli.ok(
      ["webhook", "add", `http://127.0.0.1:${port}/all`, "--events", "request.", "--secret-stdin"],
      secret + "\n",
    );
    await cli.ok(
      [
        "webhook",
        "add",
        `http://127.0.0.1:${port}/approved`,
        "--events",
        "request.approved",
        "--secret-stdin",
      ],
      "approved-only-secret-0123\n",
    );
    await cli.ok(["user", "add", "alice", "--source-ip", "127.0.0.10"]);
    await cli.ok(["server", "add", "web1", "127.0.0.1"]);
    await createConsoleUser(db.sql, { name: "bob", role: "admin", passwordHash: "x" }, { actor: "test" });
    const [{ id: userId }] = await db.sql<{ id: number }[]>`SELECT id FROM users WHERE name = 'alice'`;
    const ask = (minutes: number, reason: string) =>
      createAccessRequest(db.sql, {
        userId,
        userName: "alice",
        serverName: "web1",
        protocol: "ssh",
        logins: ["root"],
        minutes,
        reason,
        sourceIp: "127.0.0.10",
        via: "ssh_prompt",
        waitMinutes: 10,
      });
    const approved = await ask(60, "restart nginx");
    const denied = await ask(30, "look at logs");
    const expiring = await ask(15, "nobody answers");
    await cli.ok(["requests", "approve", String(approved.id), "--as", "bob", "--minutes", "20"]);
    await cli.ok(["requests", "deny", String(denied.id), "--as", "bob", "--reason", "freeze"]);
    // the third one's wait is over (serve's requests service runs this pass every 30 s)
    await db
      .sql`UPDATE access_requests
      SET created_at = now() - interval '11 minutes', expires_at = now() - interval '1 minute'
      WHERE id = ${expiring.id}`;
    assert.deepEqual((await expireDueRequests(db.sql)).map((r) => r.id), [expiring.id]);

    const key = await loadApplianceKey(dataDir);
    assert.equal(await deliverDue(db.sql, key), 7);
    const all = got.filter((g) => g.path === "/all");
    const events = all.map((g) => g.headers.get("X-Jumphost-Event"));
    assert.deepEqual(events.toSorted(), [
      "request.approved",
      "request.created",
      "request.created",
      "request.created",
      "request.denied",
      "request.expired",
    ]);
    for (const g of all) {
      const ts = Number(g.headers.get("X-Jumphost-Timestamp"));
      assert.ok(verifySignature(secret, ts, g.body, g.headers.get("X-Jumphost-Signature")!), "signed");
    }
    const texts = all.map((g) => JSON.parse(g.body).text as string);
    assert.ok(
      texts.includes(
        `jumphost: request.created, target request:${approved.id}, by alice, from 127.0.0.10, alice → web1, 60 min, reason restart nginx`,
      ),
      texts.join("\n"),
    );
    const denial = all.find((g) => g.headers.get("X-Jumphost-Event") === "request.denied")!;
    assert.match(
      JSON.parse(denial.body).text,
      /request\.denied, target request:\d+, by .*bob.*reason freeze/,
    );
    const expiry = all.find((g) => g.headers.get("X-Jumphost-Event") === "request.expired")!;
    assert.equal(JSON.parse(expiry.body).audit.target, `request:${expiring.id}`);
    const onlyApproved = got.filter((g) => g.path === "/approved");
    assert.deepEqual(onlyApproved.map((g) => g.headers.get("X-Jumphost-Event")), ["request.approved"]);
    assert.equal(JSON.parse(onlyApproved[0].body).audit.target, `request:${approved.id}`);
  } finally {
    await server.shutdown();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
