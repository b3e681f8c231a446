// Things OpenSSH servers do that npm:ssh2 1.17.0 has no public API for, built on its internals
// (pinned in deno.json; e2e tests cover them, so an upgrade that breaks them fails loudly):
//  - a USERAUTH_BANNER at any time during authentication (ssh2 only sends one fixed banner), used to tell
//    a denied user why in one line before the failure;
//  - a DISCONNECT with a description (ssh2 sends an empty one): OpenSSH prints it at LogLevel ERROR,
//    which hides banners, so a denial's reference still reaches the user;
//  - opening an "auth-agent@openssh.com" channel to the client (the server side of `ssh -A`).
import type { Duplex } from "node:stream";
import { type IncomingConnection, OpenSSHAgent } from "./ssh2_types.ts";

const USERAUTH_BANNER = 53;
const DISCONNECT = 1;
/** RFC 4253 11.1 */
export const DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE = 14;
const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

interface Internals {
  _protocol: {
    _packetRW: {
      write: {
        allocStart: number;
        allocStartKEX: number;
        alloc(n: number, force?: boolean): Uint8Array;
        finalize(p: Uint8Array, force?: boolean): Uint8Array;
      };
    };
    _kexinit: unknown;
    _queue?: Uint8Array[];
    _cipher: { encrypt(p: Uint8Array): void };
    openssh_authAgent(chan: number, window: number, packet: number): void;
  };
  _chanMgr: { add(v: unknown): number };
  _sock?: { localAddress?: string; localPort?: number; writable?: boolean; end(): void };
}

function internals(conn: IncomingConnection): Internals {
  return conn as unknown as Internals;
}

/** Sends an SSH_MSG_USERAUTH_BANNER (RFC 4252 5.4); only valid before authentication succeeds. */
export function sendAuthBanner(conn: IncomingConnection, text: string): void {
  const proto = internals(conn)._protocol;
  const msg = new TextEncoder().encode(text.endsWith("\r\n") ? text : text.replace(/\n?$/, "\r\n"));
  const rw = proto._packetRW.write;
  let p = rw.allocStart;
  const packet = rw.alloc(1 + 4 + msg.length + 4);
  const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  packet[p] = USERAUTH_BANNER;
  dv.setUint32(++p, msg.length);
  packet.set(msg, p += 4);
  dv.setUint32(p + msg.length, 0); // empty language tag
  const finalized = rw.finalize(packet);
  if (proto._kexinit !== undefined) (proto._queue ??= []).push(finalized);
  else proto._cipher.encrypt(finalized);
}

/**
 * Sends SSH_MSG_DISCONNECT (RFC 4253 11.1) with `text` as its description and ends the connection. Like
 * ssh2's own disconnect it bypasses a key exchange in progress.
 */
export function disconnectWith(conn: IncomingConnection, reason: number, text: string): void {
  const i = internals(conn);
  const proto = i._protocol;
  // OpenSSH prints the description on one line; no control characters
  const msg = new TextEncoder().encode(text.replace(/\s+/g, " ").trim());
  const rw = proto._packetRW.write;
  let p = rw.allocStartKEX;
  const packet = rw.alloc(1 + 4 + 4 + msg.length + 4, true);
  const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  packet[p] = DISCONNECT;
  dv.setUint32(++p, reason);
  dv.setUint32(p += 4, msg.length);
  packet.set(msg, p += 4);
  dv.setUint32(p + msg.length, 0); // empty language tag
  proto._cipher.encrypt(rw.finalize(packet, true));
  if (i._sock?.writable) i._sock.end();
}

/** The local address the client connected to (routes pool IPs). */
export function localAddressOf(conn: IncomingConnection): { ip: string; port: number } {
  const s = internals(conn)._sock;
  return { ip: s?.localAddress ?? "", port: s?.localPort ?? 0 };
}

/** Opens an auth-agent@openssh.com channel to the client, i.e. a connection to its forwarded agent. */
export function openAgentChannel(
  conn: IncomingConnection,
  cb: (err: Error | null, stream?: Duplex) => void,
): void {
  const i = internals(conn);
  const wrapper = Object.assign((err: Error | undefined, stream: Duplex) => cb(err ?? null, stream), {
    type: "auth-agent@openssh.com",
  });
  const id = i._chanMgr.add(wrapper);
  if (id === -1) return cb(new Error("no free channels for the agent"));
  i._protocol.openssh_authAgent(id, MAX_WINDOW, PACKET_SIZE);
}

/**
 * An ssh2 agent whose every request opens a fresh agent channel to the client: used to authenticate to
 * the backend with the user's keys and to forward the agent further when the user asked for it.
 */
export class ClientAgent extends OpenSSHAgent {
  used = false;
  constructor(private readonly conn: IncomingConnection) {
    super("");
  }
  override getStream(cb: (err: Error | null, stream?: Duplex) => void): void {
    this.used = true;
    openAgentChannel(this.conn, cb);
  }
}

/**
 * Finalizes cipher contexts ssh2 leaves open when a connection ends (a stream cipher for aes-ctr, or an
 * AES-GCM decipher for a packet cut short). Deno frees them only on garbage collection otherwise.
 */
export function releaseCrypto(connOrClient: object): void {
  const proto = (connOrClient as { _protocol?: { _cipher?: unknown; _decipher?: unknown } })._protocol;
  for (const part of [proto?._cipher, proto?._decipher]) {
    const p = part as Record<string, { final?: () => unknown } | null> | undefined;
    if (!p) continue;
    for (const k of ["_cipherInstance", "_decipherInstance"]) {
      const inst = p[k];
      if (inst && typeof inst.final === "function") {
        try {
          inst.final();
        } catch (_e) {
          // a half-received GCM packet fails authentication here; the context is released all the same
        }
        p[k] = null;
      }
    }
  }
}
