// IPv4/IPv6 addresses and CIDRs as BigInt values. Parsing is strict and total: anything that is not
// a canonical-enough address becomes a PolicyInputError, never a partial result. IPv4-mapped IPv6
// (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 peers) is normalised to plain IPv4 so one
// rule covers both spellings.

import { PolicyInputError } from "./errors.ts";

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** the address as an unsigned integer (32 or 128 bits) */
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** network address: host bits are always zero */
  network: bigint;
  prefix: number;
}

export const FAMILY_BITS: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };
const MAX_TEXT = 64; // longest valid text is ~45 chars (+ "/128"); reject early
const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96 >> 32

/** All-ones mask of the top `prefix` bits for a family. */
export function prefixMask(family: IpFamily, prefix: number): bigint {
  const bits = FAMILY_BITS[family];
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

function bad(text: string, why: string): PolicyInputError {
  return new PolicyInputError("invalid_ip", `invalid IP address ${JSON.stringify(text)}: ${why}`);
}

function parseIpv4(text: string, original: string): bigint {
  const parts = text.split(".");
  if (parts.length !== 4) throw bad(original, "IPv4 needs four dotted parts");
  let value = 0n;
  for (const part of parts) {
    // No leading zeros: "010" means 8 to some parsers and 10 to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) throw bad(original, `bad IPv4 part ${JSON.stringify(part)}`);
    const n = Number(part);
    if (n > 255) throw bad(original, `IPv4 part ${n} > 255`);
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseGroups(list: string, original: string, allowTrailingV4: boolean): bigint[] {
  if (list === "") return [];
  const parts = list.split(":");
  const groups: bigint[] = [];
  parts.forEach((part, i) => {
    if (allowTrailingV4 && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part, original);
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(BigInt(parseInt(part, 16)));
    } else {
      throw bad(original, `bad IPv6 group ${JSON.stringify(part)}`);
    }
  });
  return groups;
}

function parseIpv6(text: string, original: string): bigint {
  if (text.includes("%")) throw bad(original, "zone identifiers are not supported");
  const gap = text.indexOf("::");
  if (gap !== text.lastIndexOf("::")) throw bad(original, "more than one '::'");
  let groups: bigint[];
  if (gap < 0) {
    groups = parseGroups(text, original, true);
    if (groups.length !== 8) throw bad(original, "IPv6 needs eight groups or '::'");
  } else {
    const head = parseGroups(text.slice(0, gap), original, false);
    const tail = parseGroups(text.slice(gap + 2), original, true);
    const missing = 8 - head.length - tail.length;
    if (missing < 1) throw bad(original, "'::' must stand for at least one group");
    groups = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parse an address; IPv4-mapped IPv6 becomes IPv4. Throws PolicyInputError("invalid_ip"). */
export function parseIp(text: string): IpAddress {
  if (typeof text !== "string" || text.length === 0) throw bad(String(text), "empty");
  if (text.length > MAX_TEXT) throw bad(text.slice(0, MAX_TEXT) + "…", "too long");
  if (!text.includes(":")) return { family: 4, value: parseIpv4(text, text) };
  const value = parseIpv6(text, text);
  if (value >> 32n === MAPPED_PREFIX) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** Like parseIp but returns null for bad input (for untrusted socket addresses on hot paths). */
export function tryParseIp(text: string): IpAddress | null {
  try {
    return parseIp(text);
  } catch (e) {
    if (e instanceof PolicyInputError) return null;
    throw e;
  }
}

/**
 * Parse "addr/prefix" (or a bare address = host route). A CIDR with host bits set is rejected
 * ("cidr_host_bits") unless `strict: false`, which masks them off. `::ffff:a.b.c.d/104` becomes
 * `a.b.c.d/8`.
 */
export function parseCidr(text: string, opts: { strict?: boolean } = {}): Cidr {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT + 4) {
    throw new PolicyInputError("invalid_cidr", `invalid CIDR ${JSON.stringify(String(text).slice(0, 80))}`);
  }
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let addr: IpAddress;
  try {
    addr = parseIp(addrText);
  } catch (e) {
    if (!(e instanceof PolicyInputError)) throw e;
    throw new PolicyInputError("invalid_cidr", `invalid CIDR ${JSON.stringify(text)}: ${e.message}`);
  }
  // A mapped address was written with a 128-bit prefix; shift it into IPv4 terms.
  const written = addrText.includes(":") ? 6 : 4;
  const writtenBits = FAMILY_BITS[written];
  let prefix = writtenBits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > writtenBits) {
      throw new PolicyInputError(
        "invalid_prefix",
        `invalid prefix in ${JSON.stringify(text)}: expected 0..${writtenBits}`,
      );
    }
    prefix = Number(p);
  }
  if (written === 6 && addr.family === 4) {
    if (prefix < 96) {
      // Wider than ::ffff:0:0/96: keep it an IPv6 range (it is not an IPv4 network).
      return finishCidr(text, 6, (MAPPED_PREFIX << 32n) | addr.value, prefix, opts.strict ?? true);
    }
    prefix -= 96;
  }
  return finishCidr(text, addr.family, addr.value, prefix, opts.strict ?? true);
}

function finishCidr(text: string, family: IpFamily, value: bigint, prefix: number, strict: boolean): Cidr {
  const network = value & prefixMask(family, prefix);
  if (strict && network !== value) {
    throw new PolicyInputError(
      "cidr_host_bits",
      `CIDR ${JSON.stringify(text)} has host bits set; did you mean ${
        formatCidr({ family, network, prefix })
      }?`,
    );
  }
  return { family, network, prefix };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as "::"). */
export function formatIp(addr: IpAddress): string {
  if (addr.family === 4) {
    const v = Number(addr.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1, bestLen = 1; // only runs of two or more groups are compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLen).join(":");
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

/** Parse and re-format: the canonical spelling used as map key everywhere. */
export function normalizeIp(text: string): string {
  return formatIp(parseIp(text));
}

export function normalizeCidr(text: string, opts: { strict?: boolean } = {}): string {
  return formatCidr(parseCidr(text, opts));
}

/** Highest address of the CIDR (broadcast for IPv4). */
export function cidrLast(cidr: Cidr): bigint {
  return cidr.network |
    (prefixMask(cidr.family, cidr.prefix) ^ prefixMask(cidr.family, FAMILY_BITS[cidr.family]));
}

export function cidrContains(cidr: Cidr, addr: IpAddress): boolean {
  return cidr.family === addr.family && (addr.value & prefixMask(cidr.family, cidr.prefix)) === cidr.network;
}

/** True when every address of `inner` is in `outer`. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix &&
    (inner.network & prefixMask(outer.family, outer.prefix)) === outer.network;
}

/** Two CIDRs overlap exactly when one contains the other. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** Text convenience: does CIDR text contain IP text? Throws PolicyInputError on bad input. */
export function containsIp(cidrText: string, ipText: string): boolean {
  return cidrContains(parseCidr(cidrText), parseIp(ipText));
}
