import assert from "node:assert/strict";
import {
  cidrContains,
  cidrContainsCidr,
  cidrLast,
  cidrsOverlap,
  containsIp,
  formatCidr,
  normalizeCidr,
  normalizeIp,
  parseCidr,
  parseIp,
  tryParseIp,
} from "./cidr.ts";
import { PolicyInputError } from "./errors.ts";

const goodIps: [string, string, 4 | 6][] = [
  ["0.0.0.0", "0.0.0.0", 4],
  ["192.0.2.7", "192.0.2.7", 4],
  ["255.255.255.255", "255.255.255.255", 4],
  ["::", "::", 6],
  ["::1", "::1", 6],
  ["2001:DB8::1", "2001:db8::1", 6],
  ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", 6],
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 6], // first of equal zero runs is compressed
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", 6], // a single zero group is not compressed
  ["fe80::", "fe80::", 6],
  ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", 6],
  ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", 6],
  ["::ffff:192.0.2.7", "192.0.2.7", 4], // IPv4-mapped, as dual-stack sockets report it
  ["::FFFF:c000:0207", "192.0.2.7", 4], // the same in hex groups
  ["0:0:0:0:0:ffff:10.1.2.3", "10.1.2.3", 4],
  ["::192.0.2.7", "::c000:207", 6], // deprecated IPv4-compatible form stays IPv6
  ["64:ff9b::192.0.2.7", "64:ff9b::c000:207", 6],
];

for (const [input, canonical, family] of goodIps) {
  Deno.test(`parseIp() accepts ${input}`, () => {
    const addr = parseIp(input);
    assert.equal(addr.family, family);
    assert.equal(normalizeIp(input), canonical);
    assert.deepEqual(parseIp(canonical), addr, "canonical text parses back to the same value");
  });
}

const badIps = [
  "",
  "1.2.3",
  "1.2.3.4.5",
  "1.2.3.256",
  "01.2.3.4", // leading zero: octal to some parsers
  "1.2.3.-1",
  "1.2.3.4 ",
  " 1.2.3.4",
  "1..3.4",
  "a.b.c.d",
  "0x7f.0.0.1",
  "1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7:8::",
  "1::2::3",
  ":::",
  "1:::2",
  ":1:2:3:4:5:6:7",
  "12345::",
  "g::1",
  "fe80::1%eth0",
  "1.2.3.4::",
  "::1.2.3",
  "::ffff:1.2.3.256",
  "1.2.3.4/32",
  "x".repeat(200),
];

for (const input of badIps) {
  Deno.test(`parseIp() rejects ${JSON.stringify(input.slice(0, 30))} with invalid_ip`, () => {
    assert.throws(() => parseIp(input), (e) => e instanceof PolicyInputError && e.code === "invalid_ip");
    assert.equal(tryParseIp(input), null);
  });
}

Deno.test("parseIp() rejects non-string input with a typed error", () => {
  assert.throws(() => parseIp(undefined as unknown as string), PolicyInputError);
  assert.throws(() => parseIp(42 as unknown as string), PolicyInputError);
});

const goodCidrs: [string, string][] = [
  ["10.0.0.0/8", "10.0.0.0/8"],
  ["192.0.2.7/32", "192.0.2.7/32"],
  ["192.0.2.7", "192.0.2.7/32"], // bare address = host route
  ["0.0.0.0/0", "0.0.0.0/0"],
  ["2001:db8::/32", "2001:db8::/32"],
  ["2001:DB8:0::/48", "2001:db8::/48"],
  ["::/0", "::/0"],
  ["::1", "::1/128"],
  ["::ffff:10.0.0.0/104", "10.0.0.0/8"], // mapped CIDR becomes IPv4
  ["::ffff:192.0.2.7/128", "192.0.2.7/32"],
  ["::ffff:0.0.0.0/96", "0.0.0.0/0"],
  ["::/80", "::/80"],
];

for (const [input, canonical] of goodCidrs) {
  Deno.test(`parseCidr() accepts ${input} as ${canonical}`, () => {
    assert.equal(normalizeCidr(input), canonical);
    assert.deepEqual(parseCidr(canonical), parseCidr(input));
  });
}

const badCidrs: [string, string][] = [
  ["10.0.0.1/24", "cidr_host_bits"],
  ["2001:db8::1/64", "cidr_host_bits"],
  ["::ffff:10.0.0.1/104", "cidr_host_bits"],
  ["10.0.0.0/33", "invalid_prefix"],
  ["10.0.0.0/-1", "invalid_prefix"],
  ["10.0.0.0/", "invalid_prefix"],
  ["10.0.0.0/08", "invalid_prefix"],
  ["10.0.0.0/8/8", "invalid_prefix"],
  ["2001:db8::/129", "invalid_prefix"],
  ["10.0.0/8", "invalid_cidr"],
  ["/8", "invalid_cidr"],
  ["", "invalid_cidr"],
  ["banana", "invalid_cidr"],
];

for (const [input, code] of badCidrs) {
  Deno.test(`parseCidr() rejects ${JSON.stringify(input)} with ${code}`, () => {
    assert.throws(() => parseCidr(input), (e) => e instanceof PolicyInputError && e.code === code);
  });
}

Deno.test("parseCidr() with strict: false masks host bits off", () => {
  assert.equal(formatCidr(parseCidr("10.1.2.3/16", { strict: false })), "10.1.0.0/16");
  assert.equal(formatCidr(parseCidr("2001:db8::1/32", { strict: false })), "2001:db8::/32");
});

Deno.test("parseCidr() host-bits error suggests the network", () => {
  assert.throws(() => parseCidr("10.0.0.1/24"), /did you mean 10\.0\.0\.0\/24/);
});

Deno.test("cidrContains() matches by family and prefix, mapped IPv4 included", () => {
  const net = parseCidr("10.0.0.0/24");
  assert.equal(cidrContains(net, parseIp("10.0.0.0")), true);
  assert.equal(cidrContains(net, parseIp("10.0.0.255")), true);
  assert.equal(cidrContains(net, parseIp("::ffff:10.0.0.9")), true);
  assert.equal(cidrContains(net, parseIp("10.0.1.0")), false);
  assert.equal(cidrContains(parseCidr("0.0.0.0/0"), parseIp("::1")), false, "no cross-family match");
  assert.equal(cidrContains(parseCidr("::/0"), parseIp("1.2.3.4")), false, "IPv4 is not inside ::/0");
  assert.equal(containsIp("2001:db8::/32", "2001:db8:ffff::1"), true);
  assert.equal(containsIp("2001:db8::/32", "2001:db9::1"), false);
});

Deno.test("cidrContainsCidr() and cidrsOverlap() follow prefix nesting", () => {
  const a = parseCidr("10.0.0.0/16");
  const b = parseCidr("10.0.5.0/24");
  const c = parseCidr("10.1.0.0/16");
  assert.equal(cidrContainsCidr(a, b), true);
  assert.equal(cidrContainsCidr(b, a), false);
  assert.equal(cidrContainsCidr(a, a), true);
  assert.equal(cidrsOverlap(a, b), true);
  assert.equal(cidrsOverlap(b, a), true);
  assert.equal(cidrsOverlap(a, c), false);
  assert.equal(cidrsOverlap(parseCidr("::/0"), parseCidr("0.0.0.0/0")), false);
  assert.equal(cidrsOverlap(parseCidr("2001:db8::/32"), parseCidr("2001:db8:1::/48")), true);
});

Deno.test("cidrLast() is the broadcast / highest address", () => {
  assert.equal(cidrLast(parseCidr("10.0.0.0/24")), parseIp("10.0.0.255").value);
  assert.equal(cidrLast(parseCidr("10.0.0.7/32")), parseIp("10.0.0.7").value);
  assert.equal(cidrLast(parseCidr("2001:db8::/126")), parseIp("2001:db8::3").value);
  assert.equal(cidrLast(parseCidr("::/0")), (1n << 128n) - 1n);
});
