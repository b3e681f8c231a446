import assert from "node:assert/strict";
import { open, openText, seal, sealedKeyId, sealText, SecretBoxError, secretKey } from "./secret_box.ts";

const k1 = secretKey(new Uint8Array(32).fill(1));
const k2 = secretKey(new Uint8Array(32).fill(2));

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SecretBoxError, String(e));
    return e.code;
  }
  throw new Error("did not throw");
}

Deno.test("seal/open round-trips and names the key", () => {
  const s = sealText(k1, "hunter2 ünï", "p:1");
  assert.match(s, /^sb1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.equal(sealedKeyId(s), k1.id);
  assert.equal(openText(k1, s, "p:1"), "hunter2 ünï");
  assert.equal(openText([k2, k1], s, "p:1"), "hunter2 ünï", "an older key in the ring still opens");
  assert.notEqual(sealText(k1, "x", "p"), sealText(k1, "x", "p"), "fresh nonce each time");
  assert.notEqual(k1.id, k2.id);
});

Deno.test("open refuses another purpose, another key, tampering and garbage", () => {
  const s = seal(k1, new Uint8Array([1, 2, 3]), "nt_hash:user:1");
  assert.equal(code(() => open(k1, s, "nt_hash:user:2")), "tampered");
  assert.equal(code(() => open(k2, s, "nt_hash:user:1")), "unknown_key");
  const f = s.split(".");
  const body = Buffer.from(f[3], "base64url");
  body[0] ^= 1;
  assert.equal(
    code(() => open(k1, [f[0], f[1], f[2], body.toString("base64url")].join("."), "nt_hash:user:1")),
    "tampered",
  );
  // the key id is authenticated too: relabelling a value with another loaded key's id fails
  assert.equal(code(() => open([k1, k2], [f[0], k2.id, f[2], f[3]].join("."), "nt_hash:user:1")), "tampered");
  for (
    const bad of [
      "",
      "sb1",
      "sb2.0123456789abcdef.AAAA.AAAA",
      "sb1.xyz.AAAA.AAAA",
      "sb1.0123456789abcdef.AA.AA",
    ]
  ) {
    assert.equal(code(() => open(k1, bad, "p")), "malformed", bad);
  }
  assert.equal(code(() => secretKey(new Uint8Array(31))), "bad_key");
});
