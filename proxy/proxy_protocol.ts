// The PROXY protocol v2 header a TCP load balancer (HAProxy send-proxy-v2) puts before a client's bytes:
// who connected to the balancer and which address they dialled. Pure: bytes in, a typed result out, never
// a throw (the input comes from the network). Version 1 (the text header) is recognised and refused.
// Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr, tryParseIp } from "../policy/cidr.ts";

/** The 12 bytes every v2 header starts with. */
export const PROXY_V2_SIGNATURE = Uint8Array.from([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const V1_PREFIX = new TextEncoder().encode("PROXY ");
const FIXED = 16;
/**
 * Longest header accepted: the addresses plus room for the TLVs a balancer adds (unique id, TLS facts).
 * The spec allows 64 KiB; nothing we are sent needs that, and a bound keeps a peer from parking memory.
 */
export const MAX_HEADER_BYTES = 4096;

export interface Endpoint {
  ip: string;
  port: number;
}

export type ProxyHeader =
  /** the balancer speaking for itself (health checks), or an address family we ignore: use the socket's */
  | { command: "local" }
  | { command: "proxy"; source: Endpoint; destination: Endpoint };

export type ProxyProtocolErrorCode =
  | "v1_unsupported"
  | "bad_version"
  | "bad_command"
  | "bad_family"
  | "unsupported_transport"
  | "bad_length"
  | "too_long";

export class ProxyProtocolError {
  readonly name = "ProxyProtocolError";
  constructor(readonly code: ProxyProtocolErrorCode, readonly message: string) {}
}

export type ParseResult =
  /** the bytes do not start a PROXY header: the client's own protocol begins here */
  | { kind: "none" }
  /** a header may be starting but more bytes are needed to tell */
  | { kind: "incomplete" }
  /** a whole header, `length` bytes long; what follows belongs to the client */
  | { kind: "header"; header: ProxyHeader; length: number }
  | { kind: "error"; error: ProxyProtocolError };

/** Whether `buf` starts with `prefix`, or is a prefix of it: "yes", "no" or "maybe" (too short to tell). */
function startsWith(buf: Uint8Array, prefix: Uint8Array): "yes" | "no" | "maybe" {
  const n = Math.min(buf.length, prefix.length);
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return "no";
  return buf.length >= prefix.length ? "yes" : "maybe";
}

const fail = (code: ProxyProtocolErrorCode, message: string): ParseResult => ({
  kind: "error",
  error: new ProxyProtocolError(code, message),
});

/** Reads a PROXY header at the start of `buf` (the first bytes of a connection). */
export function parseProxyHeader(buf: Uint8Array): ParseResult {
  const v1 = startsWith(buf, V1_PREFIX);
  if (v1 === "yes") return fail("v1_unsupported", "PROXY protocol v1 (text) header: only v2 is accepted");
  const v2 = startsWith(buf, PROXY_V2_SIGNATURE);
  if (v2 === "no") return v1 === "maybe" ? { kind: "incomplete" } : { kind: "none" };
  if (buf.length < FIXED) return { kind: "incomplete" };
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return fail("bad_version", `version ${verCmd >> 4}, expected 2`);
  const command = verCmd & 0x0f;
  if (command > 1) return fail("bad_command", `command ${command} is neither LOCAL (0) nor PROXY (1)`);
  const famProto = buf[13];
  const bodyLength = (buf[14] << 8) | buf[15];
  const length = FIXED + bodyLength;
  if (length > MAX_HEADER_BYTES) {
    return fail("too_long", `header of ${length} bytes, more than ${MAX_HEADER_BYTES}`);
  }
  if (buf.length < length) return { kind: "incomplete" };
  // LOCAL: the receiver must ignore the address block whatever it holds
  if (command === 0) return { kind: "header", header: { command: "local" }, length };
  const family = famProto >> 4, transport = famProto & 0x0f;
  // AF_UNSPEC (and AF_UNIX, which has no IP to audit): the spec says to use the real connection's addresses
  if (family === 0 || family === 3) return { kind: "header", header: { command: "local" }, length };
  if (family !== 1 && family !== 2) return fail("bad_family", `address family ${family} is not defined`);
  if (transport !== 1) {
    return fail("unsupported_transport", `transport ${transport} is not STREAM (TCP)`);
  }
  const bytes = family === 1 ? 4 : 16;
  if (bodyLength < 2 * bytes + 4) {
    return fail("bad_length", `${bodyLength} bytes cannot hold ${family === 1 ? "IPv4" : "IPv6"} addresses`);
  }
  const at = FIXED;
  const ip = (off: number): string => {
    let value = 0n;
    for (let i = 0; i < bytes; i++) value = (value << 8n) | BigInt(buf[off + i]);
    const addr: IpAddress = { family: bytes === 4 ? 4 : 6, value };
    // an IPv4-mapped IPv6 address is audited as the IPv4 address, like a dual-stack socket's peer
    if (addr.family === 6 && value >> 32n === 0xffffn) {
      return formatIp({ family: 4, value: value & 0xffffffffn });
    }
    return formatIp(addr);
  };
  const port = (off: number) => (buf[off] << 8) | buf[off + 1];
  // TLVs after the addresses carry nothing we use: skipped with the rest of the header
  return {
    kind: "header",
    header: {
      command: "proxy",
      source: { ip: ip(at), port: port(at + 2 * bytes) },
      destination: { ip: ip(at + bytes), port: port(at + 2 * bytes + 2) },
    },
    length,
  };
}

/** `proxy_protocol`: a trusted sender must send a header ("required") or may ("optional"). */
export type ProxyProtocolMode = "required" | "optional";

export interface ProxyProtocolSettings {
  /** senders whose header is believed (`proxy_protocol_from`); empty = the feature is off */
  from: Cidr[];
  mode: ProxyProtocolMode;
}

export type ProxyVerdict =
  /** the connection's addresses are the socket's; `skip` bytes of header (LOCAL) are dropped */
  | { accept: "socket"; skip: number }
  /** the header speaks for the client: its source and destination replace the socket's */
  | { accept: "header"; source: Endpoint; destination: Endpoint; skip: number }
  | { accept: false; reason: ProxyRefusal; detail: string };

export type ProxyRefusal = "proxy_header_untrusted" | "proxy_header_missing" | "proxy_header_invalid";

/** The settings of config keys proxy_protocol_from (CIDRs, validated by core/config.ts) and proxy_protocol. */
export function proxyProtocolSettings(
  from: readonly string[],
  mode: ProxyProtocolMode,
): ProxyProtocolSettings {
  return { from: from.map((c) => parseCidr(c, { strict: false })), mode };
}

/** Whether the socket peer `peer` may send a header (it lies within `proxy_protocol_from`). */
export function isTrustedSender(settings: ProxyProtocolSettings, peer: string): boolean {
  const addr = tryParseIp(peer);
  return addr !== null && settings.from.some((c) => cidrContains(c, addr));
}

/**
 * What to do with a connection, once its first bytes parsed to something other than "incomplete". A header
 * from outside `proxy_protocol_from` is refused (anyone could claim any address); a trusted sender without
 * one is refused when the mode is "required" (a misconfigured balancer would otherwise make every user
 * appear as the balancer's address).
 */
export function judgeProxyHeader(
  settings: ProxyProtocolSettings,
  trusted: boolean,
  parsed: Exclude<ParseResult, { kind: "incomplete" }>,
): ProxyVerdict {
  if (parsed.kind === "none") {
    if (trusted && settings.mode === "required") {
      return {
        accept: false,
        reason: "proxy_header_missing",
        detail: "no PROXY header from a trusted sender",
      };
    }
    return { accept: "socket", skip: 0 };
  }
  if (!trusted) {
    return {
      accept: false,
      reason: "proxy_header_untrusted",
      detail: "PROXY header from a sender outside proxy_protocol_from",
    };
  }
  if (parsed.kind === "error") {
    return { accept: false, reason: "proxy_header_invalid", detail: parsed.error.message };
  }
  const h = parsed.header;
  if (h.command === "local") return { accept: "socket", skip: parsed.length };
  return { accept: "header", source: h.source, destination: h.destination, skip: parsed.length };
}
