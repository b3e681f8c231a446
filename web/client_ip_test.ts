// Unit test: the console's client address is stored the way the proxies store theirs.
import assert from "node:assert/strict";
import { peerAddress } from "./auth.ts";
import { clientIpBehindProxies, parseTrustedProxies } from "./client_ip.ts";

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

Deno.test("trusted_proxies: the right-most X-Forwarded-For address that is not a trusted proxy wins", () => {
  const trusted = parseTrustedProxies(["10.0.0.0/8", "2001:db8:1::/48"]);
  const cases: [string | null, string | undefined, string | null][] = [
    // no header, or a peer that is not a trusted proxy: the socket peer, whatever the header says
    ["10.0.0.2", undefined, "10.0.0.2"],
    ["192.0.2.50", "198.51.100.1", "192.0.2.50"],
    [null, "198.51.100.1", null],
    // one proxy in front: the address it appended
    ["10.0.0.2", "198.51.100.1", "198.51.100.1"],
    // the client forged an entry on the left: the proxy's own append on the right wins
    ["10.0.0.2", "203.0.113.66, 198.51.100.1", "198.51.100.1"],
    // two trusted proxies in a row are skipped
    ["10.0.0.2", "198.51.100.1, 10.1.1.1", "198.51.100.1"],
    ["10.0.0.2", "198.51.100.1,10.9.9.9 , 10.1.1.1", "198.51.100.1"],
    // canonical spellings, IPv6 in brackets, IPv4-mapped
    ["2001:db8:1::5", "[2001:DB8::7]:4711", "2001:db8::7"],
    ["10.0.0.2", "::ffff:198.51.100.9", "198.51.100.9"],
    // garbage stops the walk: the last trusted hop answers for it
    ["10.0.0.2", "198.51.100.1, unknown", "10.0.0.2"],
    ["10.0.0.2", "198.51.100.1, not-an-ip, 10.1.1.1", "10.1.1.1"],
    // every hop trusted: the left-most is as far as we can see
    ["10.0.0.2", "10.3.3.3, 10.1.1.1", "10.3.3.3"],
    ["10.0.0.2", " , ", "10.0.0.2"],
  ];
  for (const [peer, xff, want] of cases) {
    assert.equal(clientIpBehindProxies(peer, xff, trusted), want, `${peer} ${xff}`);
  }
  // without trusted_proxies the header is never read
  assert.equal(clientIpBehindProxies("10.0.0.2", "198.51.100.1", []), "10.0.0.2");
});
