import assert from "node:assert/strict";
import { auditRowHash, encodeAuditRow, fromHex, GENESIS_HASH, toHex } from "./audit_chain_encoding.ts";

const base = {
  id: 7,
  at: "2026-12-05T02:10:04.795396Z",
  eventId: null,
  actor: "alice",
  action: "ssh.login",
  target: null,
  sourceIp: "10.1.2.3/32",
  success: true,
  details: '{"a": "é\\n", "b": 1}',
  nodeId: "node1",
  prevHash: GENESIS_HASH,
};

Deno.test("audit encoding: the documented bytes, byte lengths of UTF-8, - for NULL", () => {
  const text = new TextDecoder().decode(encodeAuditRow(base));
  assert.equal(
    text,
    "jumphost-audit-v1\nid 7\nat 2026-12-05T02:10:04.795396Z\nevent_id -\nactor 5:alice\naction 9:ssh.login\n" +
      'target -\nsource_ip 10.1.2.3/32\nsuccess true\ndetails 21:{"a": "é\\n", "b": 1}\nnode_id 5:node1\n' +
      `prev ${"0".repeat(64)}\n`,
  );
});

Deno.test("audit encoding: the hash is SHA-256 of the bytes (WebCrypto agrees)", async () => {
  const web = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(encodeAuditRow(base))));
  assert.equal(toHex(auditRowHash(base)), toHex(web));
});

Deno.test("audit encoding: every field changes the hash; values cannot forge a field boundary", () => {
  const h = toHex(auditRowHash(base));
  const variants = [
    { id: 8 },
    { at: "2026-12-05T02:10:04.795397Z" },
    { eventId: "0efd7912-fc3d-4994-a1e1-e726a30866ef" },
    { actor: "alicf" },
    { action: "ssh.logout" },
    { target: "" },
    { sourceIp: null },
    { success: false },
    { details: '{"a": "é\\n", "b": 2}' },
    { nodeId: null },
    { prevHash: fromHex("01".repeat(32)) },
  ];
  for (const v of variants) assert.notEqual(toHex(auditRowHash({ ...base, ...v })), h, JSON.stringify(v));
  // an actor that contains what would follow it does not collide with the real fields
  const forged = { ...base, actor: "alice\naction 9:ssh.login", action: "" };
  assert.notEqual(toHex(auditRowHash(forged)), h);
  assert.notEqual(
    toHex(auditRowHash({ ...base, target: null })),
    toHex(auditRowHash({ ...base, target: "-" })),
  );
});

Deno.test("audit encoding: refuses a malformed id or prev hash", () => {
  assert.throws(() => encodeAuditRow({ ...base, id: "7\nx" }), RangeError);
  assert.throws(() => encodeAuditRow({ ...base, prevHash: new Uint8Array(31) }), RangeError);
  assert.throws(() => fromHex("zz"), RangeError);
});
