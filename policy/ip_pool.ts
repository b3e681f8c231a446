// Pure address allocation over a pool CIDR: the caller passes what is in use (from the database)
// and gets the lowest free host address. No state here, so two appliances allocating at once must
// serialise in the database (unique constraint / transaction), not in this module.
//
// Host range: IPv4 skips the network and broadcast addresses, except /31 (RFC 3021: both usable)
// and /32 (the one address). IPv6 has no broadcast; it skips the all-zero subnet-router anycast
// address (RFC 4291), except /127 (RFC 6164: both usable) and /128.

import { type Cidr, cidrLast, formatIp, normalizeIp, parseCidr, parseIp } from "./cidr.ts";
import { PolicyInputError, PoolExhaustedError } from "./errors.ts";

export interface PoolRange {
  cidr: Cidr;
  first: bigint;
  last: bigint;
}

function asCidr(pool: string | Cidr): Cidr {
  return typeof pool === "string" ? parseCidr(pool) : pool;
}

/** First and last allocatable address of a pool. */
export function poolRange(pool: string | Cidr): PoolRange {
  const cidr = asCidr(pool);
  const bits = cidr.family === 4 ? 32 : 128;
  const last = cidrLast(cidr);
  if (cidr.prefix >= bits - 1) return { cidr, first: cidr.network, last };
  return { cidr, first: cidr.network + 1n, last: cidr.family === 4 ? last - 1n : last };
}

/** Number of allocatable addresses (a bigint: an IPv6 /64 holds 2^64 - 1). */
export function poolSize(pool: string | Cidr): bigint {
  const { first, last } = poolRange(pool);
  return last - first + 1n;
}

/** True when `ip` is an allocatable host address of the pool (not its network/broadcast). */
export function isInPool(pool: string | Cidr, ip: string): boolean {
  const { cidr, first, last } = poolRange(pool);
  const addr = parseIp(ip);
  return addr.family === cidr.family && addr.value >= first && addr.value <= last;
}

export interface AllocateOptions {
  /** addresses or CIDRs never handed out (the appliance's own address, a gateway …) */
  reserved?: string[];
}

/**
 * Lowest free host address of `pool`, skipping `usedIps` (addresses outside the pool are ignored)
 * and `reserved`. Throws PoolExhaustedError when none is left and PolicyInputError on bad input.
 */
export function allocateIp(pool: string, usedIps: Iterable<string>, opts: AllocateOptions = {}): string {
  const { cidr, first, last } = poolRange(pool);
  const used = new Set<bigint>();
  for (const ip of usedIps) {
    const addr = parseIp(ip);
    if (addr.family === cidr.family && addr.value >= first && addr.value <= last) used.add(addr.value);
  }
  const ranges: [bigint, bigint][] = [];
  for (const text of opts.reserved ?? []) {
    let r: Cidr;
    try {
      r = parseCidr(text);
    } catch (e) {
      if (!(e instanceof PolicyInputError)) throw e;
      throw new PolicyInputError(e.code, `reserved entry: ${e.message}`);
    }
    if (r.family === cidr.family) ranges.push([r.network, cidrLast(r)]);
  }

  // Each pass either returns, steps over one used address, or jumps past one reserved range, so
  // the loop runs at most |used| + |reserved| + 1 times even for an IPv6 /64.
  let candidate = first;
  while (candidate <= last) {
    const range = ranges.find(([start, end]) => start <= candidate && candidate <= end);
    if (range) candidate = range[1] + 1n;
    else if (used.has(candidate)) candidate++;
    else return formatIp({ family: cidr.family, value: candidate });
  }
  throw new PoolExhaustedError(
    pool,
    `IP pool ${pool} is exhausted (${
      poolSize(cidr)
    } addresses, ${used.size} in use, ${ranges.length} reserved ranges)`,
  );
}

/** An address a pool IP must never be: one of the machine's own, or one the configuration names. */
export interface ReservedAddress {
  ip: string;
  /** what it is, for the refusal: "an address of this machine (eth0)", "the database host" … */
  why: string;
  /** named by the configuration (listen addresses, database host): refused even if it was a pool IP */
  configured: boolean;
}

/**
 * Checks an operator's explicit pool IP: `jumphost pool apply` adds it to an interface as root, so it must
 * come from `ip_pool` and be no address the machine or its configuration already uses. `poolIps` are the
 * addresses ever allocated as pool IPs: they are on the machine because `pool apply` put them there, so
 * being an interface address does not refuse them. Returns the normalised IP; throws PolicyInputError.
 */
export function checkExplicitPoolIp(
  text: string,
  pool: string | null,
  reserved: ReservedAddress[],
  poolIps: Iterable<string> = [],
): string {
  if (!pool) {
    throw new PolicyInputError(
      "pool_ip_without_pool",
      "no IP pool is configured: set ip_pool (--ip-pool, JUMPHOST_IP_POOL) to the range pool IPs come from",
    );
  }
  const ip = normalizeIp(text.trim());
  if (!isInPool(pool, ip)) {
    throw new PolicyInputError("pool_ip_outside_pool", `pool IP ${ip} is outside the pool ${pool}`);
  }
  const known = new Set([...poolIps].map(normalizeIp));
  const hit = blocking(reserved, known).find((r) => r.ip === ip);
  if (hit) throw new PolicyInputError("pool_ip_reserved", `pool IP ${ip} is ${hit.why}`);
  return ip;
}

/** The reserved addresses a pool allocation must skip (normalised; former pool IPs are no longer own). */
export function blockingAddresses(reserved: ReservedAddress[], poolIps: Iterable<string> = []): string[] {
  return blocking(reserved, new Set([...poolIps].map(normalizeIp))).map((r) => r.ip);
}

function blocking(reserved: ReservedAddress[], known: Set<string>): ReservedAddress[] {
  const out: ReservedAddress[] = [];
  for (const r of reserved) {
    let ip: string;
    try {
      ip = normalizeIp(r.ip.replace(/%.*$/, ""));
    } catch (_e) {
      continue; // a host name or a malformed entry names no address to compare with
    }
    if (!r.configured && known.has(ip)) continue;
    out.push({ ...r, ip });
  }
  return out;
}
