import assert from "node:assert/strict";
import { hashPassword, randomPassword, verifyPassword } from "./password.ts";

Deno.test("hashPassword() verifies the right password and rejects others", async () => {
  const h = await hashPassword("s3cret!");
  assert.match(h, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword("s3cret!", h), true);
  assert.equal(await verifyPassword("s3cret", h), false);
  assert.equal(await verifyPassword("s3cret!", null), false);
  assert.equal(await verifyPassword("s3cret!", "md5$abc"), false);
  assert.notEqual(await hashPassword("s3cret!"), h, "salted");
});

Deno.test("randomPassword() gives distinct url-safe strings", () => {
  const a = randomPassword(), b = randomPassword();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{20}$/);
});
