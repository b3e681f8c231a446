/** Splits a decrypted RDP byte stream into whole TPKT (slow-path/X.224) and fast-path PDUs. */
import { ensure, RdpParseError } from "./errors.ts";
import { peekFastPathHeader, TPKT_MIN_LENGTH, TPKT_VERSION } from "./tpkt.ts";

export type FrameKind = "tpkt" | "fastpath";

export interface Frame {
  kind: FrameKind;
  /** The whole PDU including its header (an owned copy). */
  bytes: Uint8Array;
}

/**
 * Incremental splitter. `push()` accepts any chunking (partial PDUs, many PDUs per chunk) and
 * returns the complete frames. After an error the stream is poisoned: every later call throws the
 * same error, because resynchronising a corrupted RDP stream is impossible (fail closed).
 * Memory is bounded: no frame exceeds 65535 bytes, so the buffer never holds more than one
 * partial frame plus the last chunk.
 */
export class PduStream {
  #buf = new Uint8Array(0);
  #error: RdpParseError | null = null;

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#error) throw this.#error;
    const data = this.#buf.length ? join(this.#buf, chunk) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    try {
      while (at < data.length) {
        const size = frameSize(data.subarray(at));
        if (size === null || at + size > data.length) break;
        frames.push({
          kind: data[at] === TPKT_VERSION ? "tpkt" : "fastpath",
          bytes: data.slice(at, at + size),
        });
        at += size;
      }
    } catch (e) {
      this.#error = e instanceof RdpParseError ? e : new RdpParseError("invalid", String(e));
      this.#buf = new Uint8Array(0);
      throw this.#error;
    }
    this.#buf = data.slice(at);
    return frames;
  }

  /** Call at connection close: throws if a partial PDU was left over. */
  end(): void {
    if (this.#error) throw this.#error;
    ensure(
      this.#buf.length === 0,
      "truncated",
      `stream ended inside a PDU (${this.#buf.length} bytes pending)`,
    );
  }
}

/** Size of the frame starting at b[0], or null if more bytes are needed to know it. */
export function frameSize(b: Uint8Array): number | null {
  if (b.length === 0) return null;
  if (b[0] === TPKT_VERSION) {
    if (b.length < 4) return null;
    const length = (b[2] << 8) | b[3];
    ensure(length >= TPKT_MIN_LENGTH, "too_large", `tpkt: absurd length ${length}`);
    return length;
  }
  const h = peekFastPathHeader(b);
  return h ? h.length : null;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
