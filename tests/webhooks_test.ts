// Webhooks against a real PostgreSQL and a local HTTP receiver: an endpoint added with the CLI gets a signed
// POST for a subscribed audit event (signature checked with the secret); a receiver that is down is retried
// with backoff and delivered once it is up, every attempt in `webhook log`; unsubscribed events are not sent;
// bad URLs and events are refused by the CLI.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { freePort } from "./helpers/sshd.ts";
import { writeAudit } from "../db/audit.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { verifySignature } from "../core/webhook_format.ts";
import { deliverDue } from "../app/webhook_service.ts";

interface Received {
  body: string;
  headers: Headers;
}

function receiver(port: number, got: Received[]) {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    got.push({ body: await req.text(), headers: req.headers });
    return new Response("ok");
  });
}

Deno.test("webhooks: signed delivery, retry while the receiver is down, log, CLI validation", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-webhooks-" });
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  const upPort = freePort(), downPort = freePort();
  const got: Received[] = [], late: Received[] = [];
  const up = receiver(upPort, got);
  try {
    const secret = "a-webhook-secret-of-32-characters";
    assert.match(
      await cli.ok(
        [
          "webhook",
          "add",
          `http://127.0.0.1:${upPort}/hook?token=abc`,
          "--events",
          "session.kill,system.",
          "--secret-stdin",
        ],
        secret + "\n",
      ),
      /webhook 1: http:\/\/127\.0\.0\.1:\d+\/hook\?… for session\.kill, system\./,
    );
    await cli.ok(
      ["webhook", "add", `http://127.0.0.1:${downPort}/`, "--events", "session.kill", "--secret-stdin"],
      "another-secret-16-chars\n",
    );
    const key = await loadApplianceKey(dataDir);

    await writeAudit(db.sql, {
      actor: "console:root",
      action: "session.kill",
      target: "7f3c",
      sourceIp: "192.0.2.9",
      success: true,
      details: { reason: "test" },
    }, "node-a");
    // not subscribed by anyone: no delivery
    await writeAudit(
      db.sql,
      { actor: "ssh", action: "ssh.session_start", target: "web1", success: true },
      "node-a",
    );
    assert.equal(await deliverDue(db.sql, key), 2);

    assert.equal(got.length, 1);
    const { body, headers } = got[0];
    assert.equal(headers.get("X-Jumphost-Event"), "session.kill");
    const ts = Number(headers.get("X-Jumphost-Timestamp"));
    assert.ok(Math.abs(ts - Date.now() / 1000) < 60);
    assert.ok(verifySignature(secret, ts, body, headers.get("X-Jumphost-Signature")!), "signature");
    assert.ok(!verifySignature("wrong-secret-wrong-secret", ts, body, headers.get("X-Jumphost-Signature")!));
    const payload = JSON.parse(body);
    assert.equal(
      payload.text,
      "jumphost: session.kill, target 7f3c, by console:root, from 192.0.2.9, reason test, on node-a",
    );
    assert.equal(payload.audit.action, "session.kill");

    // the second endpoint is down: attempt 1 failed, the next one waits its backoff
    let log = await cli.json<
      { webhook_id: number; attempts: number; delivered_at: string | null; last_error: string }[]
    >(
      ["webhook", "log", "2"],
    );
    assert.equal(log[0].attempts, 1);
    assert.equal(log[0].delivered_at, null);
    assert.ok(log[0].last_error.length > 0);
    assert.equal(await deliverDue(db.sql, key), 0, "not due yet (the first retry is 10 s later)");
    const down = receiver(downPort, late);
    try {
      // 11 s later (an injected clock)
      const later = Date.now() + 11_000;
      assert.equal(await deliverDue(db.sql, key, { now: () => later }), 1);
      assert.equal(late.length, 1);
      log = await cli.json(["webhook", "log", "2"]);
      assert.equal(log[0].attempts, 2);
      assert.notEqual(log[0].delivered_at, null);
    } finally {
      await down.shutdown();
    }
    assert.match(await cli.ok(["webhook", "log"]), /delivered/);

    // system.* events reach the first endpoint (a worker restart, as serve writes it)
    await writeAudit(db.sql, {
      actor: "system",
      action: "system.worker_restart",
      target: "ssh",
      success: true,
    }, "n");
    assert.equal(await deliverDue(db.sql, key), 1);
    assert.equal(JSON.parse(got[1].body).event, "system.worker_restart");

    // a burst of denials from one source: the 10th within 5 minutes is one security.denial_burst event
    await cli.ok(
      [
        "webhook",
        "add",
        `http://127.0.0.1:${upPort}/burst`,
        "--events",
        "security.denial_burst",
        "--secret-stdin",
      ],
      "burst-secret-burst-secret\n",
    );
    const before = got.length;
    for (let i = 0; i < 12; i++) {
      await writeAudit(db.sql, {
        actor: "ssh:-",
        action: i % 2 ? "ssh.access_denied" : "rdp.access_denied",
        target: "web1",
        sourceIp: "192.0.2.66",
        success: false,
        details: { reason: "unknown_source_ip" },
      }, "node-a");
    }
    assert.equal(await deliverDue(db.sql, key), 1);
    const burst = JSON.parse(got[before].body);
    assert.equal(burst.event, "security.denial_burst");
    assert.equal(burst.audit.source_ip, "192.0.2.66");
    assert.equal(burst.audit.details.denials, 10);
    assert.match(burst.text, /security\.denial_burst \(failed\), from 192\.0\.2\.66/);

    // refusals
    const ftp = await cli.run(
      ["webhook", "add", "ftp://x/", "--events", "session.kill", "--secret-stdin"],
      "s".repeat(20),
    );
    assert.equal(ftp.code, 1);
    assert.match(ftp.stderr, /only http and https URLs/);
    const ev = await cli.run([
      "webhook",
      "add",
      "https://x.example/",
      "--events",
      "Bad Event",
      "--secret-stdin",
    ], "s".repeat(20));
    assert.match(ev.stderr, /"Bad Event" is not an audit action/);
    const short = await cli.run([
      "webhook",
      "add",
      "https://x.example/",
      "--events",
      "system.",
      "--secret-stdin",
    ], "short");
    assert.match(short.stderr, /at least 16 characters/);
    // the secret is in no listing and the token in no audit row
    assert.doesNotMatch(await cli.ok(["webhook", "list"]), /secret|token=abc/);
    const audit = await cli.ok(["audit", "list", "--action", "webhook.", "--json"]);
    assert.doesNotMatch(audit, /token=abc|a-webhook-secret/);
    await cli.ok(["webhook", "remove", "2"]);
    assert.equal((await cli.json<unknown[]>(["webhook", "list"])).length, 2);
  } finally {
    await up.shutdown();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
