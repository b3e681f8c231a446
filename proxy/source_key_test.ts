import assert from "node:assert/strict";
import { sourceKey } from "./source_key.ts";

Deno.test("sourceKey: an IPv4 address is itself, an IPv6 address counts as its /64", () => {
  assert.equal(sourceKey("192.0.2.7"), "192.0.2.7");
  assert.equal(sourceKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(sourceKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(sourceKey("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  assert.notEqual(sourceKey("2001:db8:1:3::1"), sourceKey("2001:db8:1:2::1"));
  assert.equal(sourceKey(""), "");
});
