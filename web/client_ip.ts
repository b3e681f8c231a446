// The console's client address behind reverse proxies (config trusted_proxies). Pure.
//
// X-Forwarded-For is a list each proxy appends its peer to, so only its right end is written by proxies we
// trust; anything to the left may be made up by the client. Walking from the right, the first address that
// is not a trusted proxy is the client. Without trusted_proxies, or from a peer that is not one, the
// header is ignored (the socket peer is the client).
import { type Cidr, cidrContains, formatIp, parseCidr, tryParseIp } from "../policy/cidr.ts";

export function parseTrustedProxies(list: readonly string[]): Cidr[] {
  return list.map((c) => parseCidr(c, { strict: false }));
}

/** Canonical like the proxies' audit rows: IPv4-mapped becomes IPv4, a zone id is dropped; null if not an IP. */
export function canonicalIp(text: unknown): string | null {
  if (typeof text !== "string" || text === "") return null;
  const ip = tryParseIp(text.replace(/%.*$/, ""));
  return ip ? formatIp(ip) : null;
}

/**
 * The client's address: `peer` (the socket peer, canonical or null) unless it is a trusted proxy, then the
 * right-most address of `forwardedFor` (every X-Forwarded-For header, joined with ",") that is not one. An
 * entry that is not an address stops the walk: the hop that appended it answers for it.
 */
export function clientIpBehindProxies(
  peer: string | null,
  forwardedFor: string | undefined,
  trusted: readonly Cidr[],
): string | null {
  const isTrusted = (ip: string) => {
    const a = tryParseIp(ip);
    return a !== null && trusted.some((c) => cidrContains(c, a));
  };
  if (peer === null || trusted.length === 0 || !forwardedFor || !isTrusted(peer)) return peer;
  let client = peer;
  const hops = forwardedFor.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = canonicalIp(hops[i].replace(/^\[([^\]]+)\](?::\d+)?$/, "$1"));
    if (ip === null) return client;
    client = ip;
    if (!isTrusted(ip)) return ip;
  }
  return client; // every hop a trusted proxy: the left-most one is as far as we can see
}
