// Unit test: the console's client address is stored the way the proxies store theirs.
import assert from "node:assert/strict";
import { peerAddress } from "./auth.ts";

Deno.test("peerAddress() canonicalises the socket peer and refuses what is not an address", () => {
  const cases: [unknown, string | null][] = [
    ["192.0.2.10", "192.0.2.10"],
    ["::ffff:192.0.2.10", "192.0.2.10"],
    ["::FFFF:c000:020a", "192.0.2.10"],
    ["2001:DB8:0:0::1", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["::1", "::1"],
    ["", null],
    [undefined, null],
    [42, null],
    ["not-an-ip", null],
    ["1.2.3.4, 5.6.7.8", null],
  ];
  for (const [input, want] of cases) assert.equal(peerAddress(input), want, String(input));
});
