import assert from "node:assert/strict";
import {
  DEFAULT_SCRYPT_COST,
  hashesWaiting,
  hashPassword,
  MAX_CONCURRENT_HASHES,
  needsRehash,
  randomPassword,
  verifyPassword,
} from "./password.ts";

const CHEAP = { N: 1 << 10, r: 8, p: 1 };

Deno.test("hashPassword() defaults to OWASP's scrypt cost (N=2^17, r=8, p=1) and verifies", async () => {
  assert.deepEqual(DEFAULT_SCRYPT_COST, { N: 131072, r: 8, p: 1 });
  const h = await hashPassword("s3cret!");
  assert.match(h, /^scrypt\$131072\$8\$1\$/);
  assert.equal(await verifyPassword("s3cret!", h), true);
  assert.equal(await verifyPassword("s3cret", h), false);
  assert.equal(needsRehash(h), false);
});

Deno.test("hashPassword() with an injected cost verifies the right password and rejects others", async () => {
  const h = await hashPassword("s3cret!", CHEAP);
  assert.match(h, /^scrypt\$1024\$8\$1\$/);
  assert.equal(await verifyPassword("s3cret!", h), true);
  assert.equal(await verifyPassword("s3cret", h), false);
  assert.equal(await verifyPassword("s3cret!", null), false);
  assert.equal(await verifyPassword("s3cret!", "md5$abc"), false);
  assert.equal(await verifyPassword("s3cret!", "scrypt$0$8$1$AA==$AA=="), false);
  assert.notEqual(await hashPassword("s3cret!", CHEAP), h, "salted");
});

Deno.test("needsRehash() is true for the old N=2^14 hashes, which still verify", async () => {
  const old = await hashPassword("legacy", { N: 16384, r: 8, p: 1 });
  assert.equal(await verifyPassword("legacy", old), true);
  assert.equal(needsRehash(old), true);
  assert.equal(needsRehash("garbage"), false);
});

Deno.test("at most MAX_CONCURRENT_HASHES run at once; the rest wait in line and all finish", async () => {
  const n = MAX_CONCURRENT_HASHES + 4;
  const all = Array.from({ length: n }, (_, i) => hashPassword(`pw${i}`, { N: 1 << 14, r: 8, p: 1 }));
  assert.equal(hashesWaiting(), n - MAX_CONCURRENT_HASHES);
  const hashes = await Promise.all(all);
  assert.equal(new Set(hashes).size, n);
  assert.equal(hashesWaiting(), 0);
  for (let i = 0; i < n; i++) assert.ok(await verifyPassword(`pw${i}`, hashes[i]));
});

Deno.test("randomPassword() gives distinct url-safe strings", () => {
  const a = randomPassword(), b = randomPassword();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{20}$/);
});
