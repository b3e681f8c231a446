// Socket steps before the relay: read one plaintext TPKT (X.224 CR/CC), dial the backend, and upgrade
// both legs to TLS (node:tls: a server-side TLSSocket over the accepted socket, tls.connect over the
// backend socket). Every step has a timeout so a silent peer never holds a connection open.
import net from "node:net";
import tls from "node:tls";
import { RdpProxyError } from "./errors.ts";
import { HeldSocket } from "./held_socket.ts";

/** X.224 CR/CC are small; anything bigger before TLS is not RDP. */
const MAX_PLAIN_TPKT = 1024;

/**
 * Read exactly one TPKT frame from a plaintext socket, then pause it: the next bytes belong to TLS.
 * `received` reports whether any byte arrived (a scanner that connects and leaves is not an error).
 */
export function readPlainTpkt(
  sock: net.Socket,
  timeoutMs: number,
  what: string,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("error", onError);
      sock.off("close", onClose);
      sock.pause();
      f();
    };
    const fail = (code: "protocol" | "timeout" | "closed", msg: string) =>
      done(() => reject(new RdpProxyError(code, msg)));
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      if (buf[0] !== 3) return fail("protocol", `${what}: not a TPKT (first byte 0x${buf[0].toString(16)})`);
      if (buf.length < 4) return;
      const length = (buf[2] << 8) | buf[3];
      if (length < 7 || length > MAX_PLAIN_TPKT) return fail("protocol", `${what}: TPKT length ${length}`);
      if (buf.length < length) return;
      if (buf.length > length) return fail("protocol", `${what}: unexpected data after the TPKT`);
      done(() => resolve(buf));
    };
    const onError = (e: Error) => fail("closed", `${what}: ${e.message}`);
    const onClose = () => fail("closed", `${what}: connection closed after ${buf.length} byte(s)`);
    const timer = setTimeout(() => fail("timeout", `${what}: nothing within ${timeoutMs} ms`), timeoutMs);
    sock.on("data", onData);
    sock.on("error", onError);
    sock.on("close", onClose);
    sock.resume();
  });
}

export function dialBackend(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new RdpProxyError("timeout", `backend ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.off("error", onError);
      sock.setNoDelay(true);
      resolve(sock);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new RdpProxyError("backend", `backend ${host}:${port}: ${e.message}`, { cause: e }));
    };
    sock.once("error", onError);
  });
}

/** Write and wait until the bytes are handed to the kernel. */
export function writeAll(sock: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.write(bytes, (e?: Error | null) => (e ? reject(new RdpProxyError("closed", e.message)) : resolve()));
  });
}

/** A TLS leg: the TLS stream and the socket under it that can be held (see held_socket.ts). */
export interface TlsLeg {
  stream: tls.TLSSocket;
  held: HeldSocket;
}

/** A TLS leg as the relay drives it: hold/release act on the TCP socket under TLS. */
export function relayLeg(l: TlsLeg): { stream: tls.TLSSocket; hold(): void; release(): void } {
  return { stream: l.stream, hold: () => l.held.hold(), release: () => l.held.release() };
}

/** TLS server side over the accepted client socket (after our X.224 Connection Confirm). */
export async function acceptTls(
  sock: net.Socket,
  material: { cert: string; key: string },
  timeoutMs: number,
): Promise<TlsLeg> {
  const held = new HeldSocket(sock);
  const t = new tls.TLSSocket(held as unknown as net.Socket, {
    isServer: true,
    cert: material.cert,
    key: material.key,
    minVersion: "TLSv1.2",
  });
  return { stream: await handshake(t, "secure", timeoutMs, "client TLS handshake"), held };
}

/** TLS client side towards the backend. RDP servers use self-signed certificates: not verified. */
export async function connectTls(sock: net.Socket, timeoutMs: number): Promise<TlsLeg> {
  const held = new HeldSocket(sock);
  const t = tls.connect({
    socket: held as unknown as net.Socket,
    rejectUnauthorized: false,
    minVersion: "TLSv1",
  });
  return { stream: await handshake(t, "secureConnect", timeoutMs, "backend TLS handshake"), held };
}

function handshake(
  t: tls.TLSSocket,
  event: "secure" | "secureConnect",
  timeoutMs: number,
  what: string,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      t.destroy();
      reject(new RdpProxyError("timeout", `${what}: not finished within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      t.off(event, onOk);
      t.off("error", onError);
      t.off("close", onClose);
    };
    const onOk = () => {
      cleanup();
      resolve(t);
    };
    const onError = (e: Error) => {
      cleanup();
      t.destroy();
      reject(new RdpProxyError("tls", `${what}: ${e.message}`, { cause: e }));
    };
    const onClose = () => {
      cleanup();
      reject(new RdpProxyError("closed", `${what}: connection closed`));
    };
    t.once(event, onOk);
    t.once("error", onError);
    t.once("close", onClose);
  });
}
