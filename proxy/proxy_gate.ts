// The PROXY protocol step of a listener (SSH and RDP): before the proxy's own protocol sees a socket, read
// the header a trusted balancer put in front of the client's bytes, decide (proxy_protocol.ts), and make
// the socket report the client's addresses. Everything after the header is handed back (unshift) to
// whoever reads the socket next; the socket is left paused for it.
import type net from "node:net";
import type { AuditEvent } from "../db/audit_events.ts";
import {
  type Endpoint,
  isTrustedSender,
  judgeProxyHeader,
  parseProxyHeader,
  type ProxyProtocolSettings,
  type ProxyRefusal,
} from "./proxy_protocol.ts";

/** A dual-stack listener's IPv4 peer as plain IPv4 (how the proxies audit addresses). */
function plainIp(addr: string | undefined): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr ?? "");
  return m ? m[1] : addr ?? "";
}

/** How long a sender has to send its first bytes (the header, or the client's protocol). */
export const PROXY_HEADER_TIMEOUT_MS = 10_000;

export type GateResult =
  | { ok: true; viaHeader: boolean }
  | {
    ok: false;
    reason: ProxyRefusal | "proxy_header_timeout" | "proxy_header_closed" | "proxy_gate_full";
    detail: string;
    /** the socket peer (the balancer, or whoever sent the refused header) */
    peer: string;
  };

/** Bounds of sockets waiting in the gate (their setup caps apply only once the client's address is known). */
export interface GateLimits {
  /** sockets reading their first bytes, from all senders */
  total: number;
  /** of them from one sender outside proxy_protocol_from (a balancer carries everyone: it has none) */
  perUntrustedSource: number;
}

export const GATE_LIMITS: GateLimits = { total: 1024, perUntrustedSource: 32 };

/**
 * Counts sockets in the gate, so that silent connections (which wait up to the header timeout before any
 * setup cap sees them) cannot pile up without bound.
 */
export class GateSlots {
  #total = 0;
  #bySource = new Map<string, number>();
  constructor(private readonly limits: GateLimits = GATE_LIMITS) {}

  /** Takes a slot for a socket from `peer`; a release function, or null when over a limit. */
  take(peer: string, trusted: boolean): (() => void) | null {
    if (this.#total >= this.limits.total) return null;
    const n = trusted ? 0 : this.#bySource.get(peer) ?? 0;
    if (!trusted && n >= this.limits.perUntrustedSource) return null;
    this.#total++;
    if (!trusted) this.#bySource.set(peer, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      if (trusted) return;
      const left = (this.#bySource.get(peer) ?? 1) - 1;
      if (left <= 0) this.#bySource.delete(peer);
      else this.#bySource.set(peer, left);
    };
  }

  get inGate(): number {
    return this.#total;
  }
}

/**
 * Reads the start of `sock` under `settings`. On `ok`, the socket is paused, its header bytes consumed and
 * (when a header spoke for a client) its remote and local addresses are the header's source and
 * destination. On refusal the caller closes the socket and audits. Never rejects.
 */
export function passProxyGate(
  sock: net.Socket,
  settings: ProxyProtocolSettings,
  timeoutMs = PROXY_HEADER_TIMEOUT_MS,
  slots?: GateSlots,
): Promise<GateResult> {
  const peer = plainIp(sock.remoteAddress);
  // Deno has no peer address for a socket reset before we saw it (a balancer's health check that hung up
  // at once): it is gone, and nothing can be said about who sent it
  if (peer === "") {
    return Promise.resolve({
      ok: false,
      reason: "proxy_header_closed",
      detail: "gone before it was read",
      peer,
    });
  }
  const trusted = isTrustedSender(settings, peer);
  const release = slots ? slots.take(peer, trusted) : () => {};
  if (release === null) {
    return Promise.resolve({
      ok: false,
      reason: "proxy_gate_full",
      detail: `too many connections waiting for their first bytes${trusted ? "" : " from this sender"}`,
      peer,
    });
  }
  return new Promise((resolve) => {
    let buf = new Uint8Array(0);
    const done = (r: GateResult, rest?: Uint8Array) => {
      release();
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("close", onClose);
      sock.pause();
      if (rest && rest.length > 0) sock.unshift(rest);
      resolve(r);
    };
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      const parsed = parseProxyHeader(buf);
      if (parsed.kind === "incomplete") return;
      const v = judgeProxyHeader(settings, trusted, parsed);
      if (v.accept === false) return done({ ok: false, reason: v.reason, detail: v.detail, peer });
      if (v.accept === "header") useAddresses(sock, v.source, v.destination);
      done({ ok: true, viaHeader: v.accept === "header" }, buf.subarray(v.skip));
    };
    const onClose = () =>
      done({ ok: false, reason: "proxy_header_closed", detail: `closed after ${buf.length} byte(s)`, peer });
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          reason: "proxy_header_timeout",
          detail: `no complete PROXY header or client data within ${timeoutMs} ms`,
          peer,
        }),
      timeoutMs,
    );
    sock.on("data", onData);
    sock.on("close", onClose);
    sock.resume();
  });
}

/**
 * The header's addresses become the socket's own (instance properties shadow net.Socket's getters): every
 * later reader — setup caps, identity, audit, routing by the dialled pool IP or port — sees the client and
 * the address it dialled on the balancer, with no second path to forget.
 */
function useAddresses(sock: net.Socket, source: Endpoint, destination: Endpoint): void {
  const family = source.ip.includes(":") ? "IPv6" : "IPv4";
  const values: Record<string, string | number> = {
    remoteAddress: source.ip,
    remotePort: source.port,
    remoteFamily: family,
    localAddress: destination.ip,
    localPort: destination.port,
  };
  for (const [k, value] of Object.entries(values)) {
    Object.defineProperty(sock, k, { value, configurable: true, enumerable: true });
  }
}

/**
 * The audit row of a refused connection: the sender's address, why, and on which listener. None for a
 * connection that closed without a word (a port scan, a TCP health check: it claimed nothing, and a row per
 * check would bury the audit log) nor for one cut by the gate's bounds (a flood, like the setup caps: logged
 * and counted, never a database write per connection).
 */
export function proxyRefusalEvent(
  protocol: "ssh" | "rdp",
  r: Extract<GateResult, { ok: false }>,
  listener: string,
): AuditEvent | null {
  if (r.reason === "proxy_header_closed" || r.reason === "proxy_gate_full") return null;
  return {
    // the same actor the proxy gives other events of clients not identified yet
    actor: protocol === "ssh" ? `ip:${r.peer}` : "unknown",
    action: protocol === "ssh" ? "ssh.proxy_header_refused" : "rdp.proxy_header_refused",
    target: null,
    sourceIp: r.peer || null,
    success: false,
    details: { reason: r.reason, detail: r.detail, listener },
  };
}
