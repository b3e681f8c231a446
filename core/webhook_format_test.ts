import assert from "node:assert/strict";
import {
  deliveryBody,
  MAX_ATTEMPTS,
  retryDelayMs,
  signBody,
  slackText,
  verifySignature,
} from "./webhook_format.ts";

Deno.test("slackText: the event in one line", () => {
  assert.equal(
    slackText({
      action: "ssh.access_denied",
      actor: "ssh:alice",
      target: "web1",
      source_ip: "192.0.2.7",
      success: false,
      details: { reason: "outside_schedule" },
      node: "jump-a",
    }),
    "jumphost: ssh.access_denied (failed), target web1, by ssh:alice, from 192.0.2.7, reason outside_schedule, on jump-a",
  );
  assert.equal(slackText({ action: "session.kill" }), "jumphost: session.kill");
  assert.equal(
    slackText({
      action: "request.created",
      actor: "alice",
      target: "request:4",
      details: { user: "alice", server: "web1", minutes: 60, reason: "restart nginx" },
    }),
    "jumphost: request.created, target request:4, by alice, alice → web1, 60 min, reason restart nginx",
  );
  const body = JSON.parse(deliveryBody("session.kill", { action: "session.kill", target: "s1" }));
  assert.equal(body.text, "jumphost: session.kill, target s1");
  assert.equal(body.event, "session.kill");
});

Deno.test("signBody: HMAC-SHA256 over timestamp.body, checked in constant time", () => {
  // the known answer from openssl: printf "1700000000.{}" | openssl dgst -sha256 -hmac k
  const sig = signBody("k", 1700000000, "{}");
  assert.equal(sig, "sha256=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146");
  assert.ok(verifySignature("k", 1700000000, "{}", sig));
  assert.ok(!verifySignature("k", 1700000001, "{}", sig));
  assert.ok(!verifySignature("other", 1700000000, "{}", sig));
  assert.ok(!verifySignature("k", 1700000000, "{}", "sha256=00"));
});

Deno.test("retryDelayMs: doubling from 10 s, capped at an hour, given up after the last attempt", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n)), [10_000, 20_000, 40_000, 80_000]);
  assert.equal(retryDelayMs(9), 2_560_000);
  assert.equal(retryDelayMs(9, 60_000), 3600_000);
  assert.equal(retryDelayMs(MAX_ATTEMPTS), null);
});
