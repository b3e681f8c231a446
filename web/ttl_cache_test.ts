import assert from "node:assert/strict";
import { ttlCache } from "./ttl_cache.ts";

Deno.test("ttlCache() reuses a value within the TTL, reloads after it, and forgets failures", async () => {
  let t = 1_000_000;
  let loads = 0;
  let fail = false;
  const get = ttlCache(30_000, () => new Date(t), () => {
    loads++;
    return fail ? Promise.reject(new Error("down")) : Promise.resolve(loads);
  });
  assert.equal(await get(), 1);
  t += 29_999;
  assert.equal(await get(), 1);
  t += 1;
  assert.equal(await get(), 2);
  const [a, b] = await Promise.all([get(), get()]);
  assert.equal(a, b);
  fail = true;
  t += 30_000;
  await assert.rejects(get(), /down/);
  fail = false;
  assert.equal(await get(), 4, "the failure was not cached");
});
