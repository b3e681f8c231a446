// Fixed-size reads on a TLS leg after CredSSP (the 4-byte Early User Authorization Result of HYBRID_EX):
// bounded in time; bytes after it are put back on the stream for the relay.
import type { Duplex } from "node:stream";
import { RdpProxyError } from "./errors.ts";

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
