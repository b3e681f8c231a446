import assert from "node:assert/strict";
import { checkTotp, newTotpSecret, totpCode, totpStep, totpUri } from "./totp.ts";
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from "./recovery_codes.ts";

// RFC 6238 appendix B: the SHA-1 secret "12345678901234567890"; 6-digit codes are the last 6 of 8
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

Deno.test("totpCode() matches RFC 6238's SHA-1 test vectors (6 digits)", () => {
  assert.equal(totpCode(RFC_SECRET, 59_000), "287082");
  assert.equal(totpCode(RFC_SECRET, 1111111109_000), "081804");
  assert.equal(totpCode(RFC_SECRET, 1234567890_000), "005924");
});

Deno.test("checkTotp() accepts the current code and one step either side, and returns its step", () => {
  const s = newTotpSecret();
  assert.match(s, /^[A-Z2-7]{32}$/);
  const now = 1_800_000_000_000;
  assert.deepEqual(checkTotp(s, totpCode(s, now), now, null), { ok: true, step: totpStep(now) });
  assert.deepEqual(checkTotp(s, totpCode(s, now - 30_000), now, null), { ok: true, step: totpStep(now) - 1 });
  assert.deepEqual(checkTotp(s, totpCode(s, now + 30_000), now, null), { ok: true, step: totpStep(now) + 1 });
  assert.deepEqual(checkTotp(s, totpCode(s, now - 90_000), now, null), { ok: false, reason: "wrong" });
  const code = totpCode(s, now);
  assert.deepEqual(checkTotp(s, `${code.slice(0, 3)} ${code.slice(3)}`, now, null).ok, true);
  assert.deepEqual(checkTotp(s, "12345", now, null), { ok: false, reason: "malformed" });
  assert.deepEqual(checkTotp(s, "abcdef", now, null), { ok: false, reason: "malformed" });
});

Deno.test("checkTotp() refuses a code whose step was already used (no replay inside the window)", () => {
  const s = newTotpSecret();
  const now = 1_800_000_000_000;
  const step = totpStep(now);
  assert.deepEqual(checkTotp(s, totpCode(s, now), now, step), { ok: false, reason: "reused" });
  assert.deepEqual(checkTotp(s, totpCode(s, now - 30_000), now, step), { ok: false, reason: "reused" });
  assert.equal(checkTotp(s, totpCode(s, now + 30_000), now, step).ok, true);
});

Deno.test("totpUri() is what authenticator apps read", () => {
  const u = new URL(totpUri(RFC_SECRET, "alice"));
  assert.equal(u.protocol, "otpauth:");
  assert.equal(u.searchParams.get("secret"), RFC_SECRET);
  assert.equal(u.searchParams.get("issuer"), "jumphost");
  assert.equal(u.searchParams.get("digits"), "6");
  assert.equal(u.searchParams.get("period"), "30");
});

Deno.test("recovery codes: ten distinct, normalised for typing, hashed", () => {
  const codes = newRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
  const n = normalizeRecoveryCode(` ${codes[0].toUpperCase()} `)!;
  assert.equal(n, codes[0].replaceAll("-", ""));
  assert.equal(normalizeRecoveryCode("123456"), null);
  assert.match(hashRecoveryCode(n), /^[0-9a-f]{64}$/);
  assert.notEqual(hashRecoveryCode(n), hashRecoveryCode(normalizeRecoveryCode(codes[1])!));
});
