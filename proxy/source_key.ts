// Pure: the unit a per-source cap counts. An IPv4 address is one source; an IPv6 client usually holds a
// whole /64 (and can pick any address in it), so its /64 is one source.
import { formatIp, parseIp } from "../policy/mod.ts";

export function sourceKey(ip: string): string {
  try {
    const a = parseIp(ip);
    if (a.family === 4) return formatIp(a);
    return `${formatIp({ family: 6, value: (a.value >> 64n) << 64n })}/64`;
  } catch (_e) {
    return ip; // not an address (a Unix socket, say): counted as itself
  }
}
