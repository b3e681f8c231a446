import assert from "node:assert/strict";
import { PolicyInputError, PoolExhaustedError } from "./errors.ts";
import {
  allocateIp,
  blockingAddresses,
  checkExplicitPoolIp,
  isInPool,
  poolRange,
  poolSize,
  type ReservedAddress,
} from "./ip_pool.ts";

const isExhausted = (e: unknown) => e instanceof PoolExhaustedError && e.code === "pool_exhausted";

Deno.test("allocateIp() hands out the first host address and skips used ones", () => {
  assert.equal(allocateIp("10.0.160.128/25", []), "10.0.160.129");
  assert.equal(allocateIp("10.0.160.128/25", ["10.0.160.129", "10.0.160.130"]), "10.0.160.131");
  assert.equal(allocateIp("10.0.160.128/25", ["10.0.160.130"]), "10.0.160.129", "fills holes first");
  assert.equal(
    allocateIp("10.0.160.128/25", ["::ffff:10.0.160.129"]),
    "10.0.160.130",
    "mapped spelling counts",
  );
  assert.equal(
    allocateIp("10.0.160.128/25", ["192.0.2.1", "2001:db8::1"]),
    "10.0.160.129",
    "outsiders ignored",
  );
});

Deno.test("allocateIp() on a /30 uses the two middle addresses, then is exhausted", () => {
  assert.equal(allocateIp("192.0.2.0/30", []), "192.0.2.1");
  assert.equal(allocateIp("192.0.2.0/30", ["192.0.2.1"]), "192.0.2.2");
  assert.throws(() => allocateIp("192.0.2.0/30", ["192.0.2.1", "192.0.2.2"]), isExhausted);
  assert.equal(poolSize("192.0.2.0/30"), 2n);
});

Deno.test("allocateIp() on a /31 uses both addresses (RFC 3021)", () => {
  assert.equal(allocateIp("192.0.2.0/31", []), "192.0.2.0");
  assert.equal(allocateIp("192.0.2.0/31", ["192.0.2.0"]), "192.0.2.1");
  assert.throws(() => allocateIp("192.0.2.0/31", ["192.0.2.0", "192.0.2.1"]), isExhausted);
  assert.equal(poolSize("192.0.2.0/31"), 2n);
});

Deno.test("allocateIp() on a /32 hands out that one address", () => {
  assert.equal(allocateIp("192.0.2.9/32", []), "192.0.2.9");
  assert.throws(() => allocateIp("192.0.2.9/32", ["192.0.2.9"]), isExhausted);
  assert.equal(poolSize("192.0.2.9/32"), 1n);
});

Deno.test("allocateIp() on a small IPv6 pool skips the subnet-router anycast address", () => {
  assert.equal(allocateIp("2001:db8::/126", []), "2001:db8::1");
  assert.equal(
    allocateIp("2001:db8::/126", ["2001:db8::1", "2001:db8::2"]),
    "2001:db8::3",
    "no broadcast in v6",
  );
  assert.throws(
    () => allocateIp("2001:db8::/126", ["2001:db8::1", "2001:db8::2", "2001:db8::3"]),
    isExhausted,
  );
  assert.equal(poolSize("2001:db8::/126"), 3n);
  assert.equal(allocateIp("2001:db8::/127", []), "2001:db8::");
  assert.equal(allocateIp("2001:db8::5/128", []), "2001:db8::5");
});

Deno.test("allocateIp() respects reserved addresses and ranges", () => {
  assert.equal(allocateIp("10.0.0.0/24", [], { reserved: ["10.0.0.1"] }), "10.0.0.2");
  assert.equal(
    allocateIp("10.0.0.0/24", ["10.0.0.17"], { reserved: ["10.0.0.0/28", "10.0.0.16/32"] }),
    "10.0.0.18",
  );
  assert.throws(() => allocateIp("10.0.0.0/29", [], { reserved: ["10.0.0.0/29"] }), isExhausted);
  assert.throws(
    () => allocateIp("10.0.0.0/24", [], { reserved: ["10.0.0.1/24"] }),
    (e) => e instanceof PolicyInputError && e.code === "cidr_host_bits",
  );
});

Deno.test("allocateIp() stays fast on a huge pool with a large used set", () => {
  const used = Array.from({ length: 10_000 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
  assert.equal(allocateIp("2001:db8::/64", used), "2001:db8::2711");
  assert.equal(allocateIp("2001:db8::/64", [], { reserved: ["2001:db8::/65"] }), "2001:db8:0:0:8000::");
});

Deno.test("allocateIp() fills a /24 completely and then reports exhaustion", () => {
  const used: string[] = [];
  for (let i = 0; i < 254; i++) used.push(allocateIp("10.1.1.0/24", used));
  assert.equal(used[0], "10.1.1.1");
  assert.equal(used[253], "10.1.1.254");
  assert.equal(new Set(used).size, 254);
  assert.throws(
    () => allocateIp("10.1.1.0/24", used),
    (e) => isExhausted(e) && /10\.1\.1\.0\/24/.test(String(e)),
  );
});

Deno.test("allocateIp() rejects bad pool and used entries with typed errors", () => {
  assert.throws(() => allocateIp("10.0.0.1/24", []), (e) => e instanceof PolicyInputError);
  assert.throws(
    () => allocateIp("nope", []),
    (e) => e instanceof PolicyInputError && e.code === "invalid_cidr",
  );
  assert.throws(() => allocateIp("10.0.0.0/24", ["10.0.0"]), (e) => e instanceof PolicyInputError);
});

Deno.test("isInPool() accepts host addresses only", () => {
  assert.equal(isInPool("10.0.0.0/24", "10.0.0.1"), true);
  assert.equal(isInPool("10.0.0.0/24", "::ffff:10.0.0.254"), true);
  assert.equal(isInPool("10.0.0.0/24", "10.0.0.0"), false, "network address");
  assert.equal(isInPool("10.0.0.0/24", "10.0.0.255"), false, "broadcast");
  assert.equal(isInPool("10.0.0.0/24", "10.0.1.1"), false);
  assert.equal(isInPool("10.0.0.0/31", "10.0.0.0"), true);
  assert.equal(isInPool("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"), true);
  assert.equal(isInPool("2001:db8::/64", "10.0.0.1"), false);
});

Deno.test("poolSize() and poolRange() describe the allocatable range", () => {
  assert.equal(poolSize("10.0.160.128/25"), 126n);
  assert.equal(poolSize("2001:db8::/64"), (1n << 64n) - 1n);
  const r = poolRange("10.0.0.0/24");
  assert.equal(r.last - r.first, 253n);
});

const RESERVED: ReservedAddress[] = [
  { ip: "10.0.0.1", why: "an address of this machine (eth0)", configured: false },
  { ip: "fe80::1%eth0", why: "an address of this machine (eth0)", configured: false },
  { ip: "10.0.0.9", why: "an address of this machine (lo)", configured: false },
  { ip: "10.0.0.20", why: "the ssh_listen address", configured: true },
  { ip: "::ffff:10.0.0.30", why: "the database host", configured: true },
  { ip: "db.example", why: "the database host", configured: true },
];
const code = (c: string) => (e: unknown) => e instanceof PolicyInputError && e.code === c;

Deno.test("checkExplicitPoolIp() refuses every explicit pool IP while no pool is configured", () => {
  assert.throws(
    () => checkExplicitPoolIp("10.0.0.5", null, []),
    (e) => code("pool_ip_without_pool")(e) && /set ip_pool/.test((e as Error).message),
  );
});

Deno.test("checkExplicitPoolIp() allows host addresses of the pool only", () => {
  assert.equal(checkExplicitPoolIp(" 10.0.0.5 ", "10.0.0.0/24", RESERVED), "10.0.0.5");
  assert.equal(checkExplicitPoolIp("::ffff:10.0.0.6", "10.0.0.0/24", RESERVED), "10.0.0.6");
  assert.throws(() => checkExplicitPoolIp("192.168.1.1", "10.0.0.0/24", []), code("pool_ip_outside_pool"));
  assert.throws(() => checkExplicitPoolIp("10.0.0.255", "10.0.0.0/24", []), code("pool_ip_outside_pool"));
  assert.throws(() => checkExplicitPoolIp("10.0.0", "10.0.0.0/24", []), code("invalid_ip"));
});

Deno.test("checkExplicitPoolIp() refuses the machine's own and the configured addresses", () => {
  assert.throws(
    () => checkExplicitPoolIp("10.0.0.1", "10.0.0.0/24", RESERVED),
    (e) => code("pool_ip_reserved")(e) && /an address of this machine \(eth0\)/.test((e as Error).message),
  );
  assert.throws(() => checkExplicitPoolIp("10.0.0.20", "10.0.0.0/24", RESERVED), /ssh_listen/);
  assert.throws(() => checkExplicitPoolIp("10.0.0.30", "10.0.0.0/24", RESERVED), /the database host/);
  assert.throws(() => checkExplicitPoolIp("fe80::1", "fe80::/64", RESERVED), /this machine/);
});

Deno.test("checkExplicitPoolIp(): a former pool IP on the machine is allowed, a configured one is not", () => {
  // 10.0.0.9 is on lo because `pool apply` put it there
  assert.equal(checkExplicitPoolIp("10.0.0.9", "10.0.0.0/24", RESERVED, ["10.0.0.9"]), "10.0.0.9");
  assert.throws(
    () => checkExplicitPoolIp("10.0.0.20", "10.0.0.0/24", RESERVED, ["10.0.0.20"]),
    code("pool_ip_reserved"),
  );
});

Deno.test("blockingAddresses() feeds automatic allocation: reserved addresses are skipped", () => {
  const blocked = blockingAddresses(RESERVED, ["10.0.0.9"]);
  assert.deepEqual(blocked, ["10.0.0.1", "fe80::1", "10.0.0.20", "10.0.0.30"]);
  assert.equal(allocateIp("10.0.0.0/30", [], { reserved: blocked }), "10.0.0.2");
});
