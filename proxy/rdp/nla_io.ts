// CredSSP messages over a TLS leg: each TSRequest is one DER SEQUENCE with a definite length, read whole
// (bounded in size and time). Bytes after it belong to the next phase (the client's MCS Connect Initial
// right after its TSCredentials) and are put back on the stream for the relay.
import type { Duplex } from "node:stream";
import { RdpProxyError } from "./errors.ts";

/** TSRequests carry NTLM messages and a certificate hash; anything near this is not CredSSP. */
export const MAX_TS_REQUEST = 64 * 1024;

/** Total length (header + contents) of the DER SEQUENCE at the start of `b`; null until it is known. */
export function derMessageLength(b: Uint8Array, max = MAX_TS_REQUEST): number | null {
  if (b.length === 0) return null;
  if (b[0] !== 0x30) {
    throw new RdpProxyError("protocol", `CredSSP: expected a DER SEQUENCE, got 0x${b[0].toString(16)}`);
  }
  if (b.length < 2) return null;
  const first = b[1];
  let len: number;
  let header: number;
  if (first < 0x80) {
    len = first;
    header = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 3) {
      throw new RdpProxyError("protocol", `CredSSP: unsupported DER length form 0x${first.toString(16)}`);
    }
    if (b.length < 2 + n) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[2 + i];
    header = 2 + n;
  }
  const total = header + len;
  if (total > max) throw new RdpProxyError("protocol", `CredSSP: message of ${total} bytes exceeds ${max}`);
  return total;
}

/** Read one whole DER message; the stream is left paused with any extra bytes unshifted. */
export function readDerMessage(stream: Duplex, timeoutMs: number, what: string): Promise<Uint8Array> {
  return readMeasured(stream, (buf) => derMessageLength(buf), timeoutMs, what);
}

/** Read exactly `n` bytes (the 4-byte Early User Authorization Result); extra bytes are put back. */
export function readExactly(stream: Duplex, n: number, timeoutMs: number, what: string): Promise<Uint8Array> {
  return readMeasured(stream, () => n, timeoutMs, what);
}

/** Collect bytes until `size(buf)` says how long the message is and that many arrived. */
function readMeasured(
  stream: Duplex,
  size: (buf: Uint8Array) => number | null,
  timeoutMs: number,
  what: string,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    const done = (f: () => void) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onClose);
      stream.off("close", onClose);
      stream.off("error", onError);
      stream.pause();
      f();
    };
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      let total: number | null;
      try {
        total = size(buf);
      } catch (e) {
        return done(() => reject(e));
      }
      if (total === null || buf.length < total) return;
      const rest = buf.subarray(total);
      done(() => {
        if (rest.length > 0) stream.unshift(rest);
        resolve(buf.slice(0, total));
      });
    };
    const onClose = () => done(() => reject(new RdpProxyError("closed", `${what}: connection closed`)));
    const onError = (e: Error) => done(() => reject(new RdpProxyError("closed", `${what}: ${e.message}`)));
    const timer = setTimeout(
      () => done(() => reject(new RdpProxyError("timeout", `${what}: nothing within ${timeoutMs} ms`))),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("end", onClose);
    stream.once("close", onClose);
    stream.once("error", onError);
    stream.resume();
  });
}

/** Write and wait until the stream took the bytes. */
export function writeMessage(stream: Duplex, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(
      bytes,
      (e?: Error | null) => (e ? reject(new RdpProxyError("closed", e.message)) : resolve()),
    );
  });
}
