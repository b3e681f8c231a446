/** Splits a decrypted RDP byte stream into whole TPKT (slow-path/X.224) and fast-path PDUs. */
import { ensure, RdpParseError } from "./errors.ts";
import { peekFastPathHeader, TPKT_MIN_LENGTH, TPKT_VERSION } from "./tpkt.ts";

export type FrameKind = "tpkt" | "fastpath";

export interface Frame {
  kind: FrameKind;
  /**
   * The whole PDU including its header: a view of the bytes received (nobody writes to a received
   * chunk again, so it can be kept; copying it would cost a copy of every byte relayed).
   */
  bytes: Uint8Array;
}

/**
 * Incremental splitter. `push()` accepts any chunking (partial PDUs, many PDUs per chunk) and
 * returns the complete frames. After an error the stream is poisoned: every later call throws the
 * same error, because resynchronising a corrupted RDP stream is impossible (fail closed).
 * Memory is bounded: no frame exceeds 65535 bytes, so the buffer never holds more than one
 * partial frame plus the last chunk.
 */
const EMPTY = new Uint8Array(0);

export class PduStream {
  #buf: Uint8Array = EMPTY;
  #error: RdpParseError | null = null;

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#error) throw this.#error;
    const frames: Frame[] = [];
    try {
      const at = this.#completePending(chunk, frames);
      if (at < 0) return frames;
      this.#buf = EMPTY;
      this.#split(chunk, at, frames);
    } catch (e) {
      this.#error = e instanceof RdpParseError ? e : new RdpParseError("invalid", String(e));
      this.#buf = EMPTY;
      throw this.#error;
    }
    return frames;
  }

  /**
   * Finish the frame begun in an earlier chunk with the first bytes of `chunk`, copying only that
   * frame; returns where the rest of `chunk` starts, or -1 when all of it was kept for later.
   */
  #completePending(chunk: Uint8Array, frames: Frame[]): number {
    if (this.#buf.length === 0) return 0;
    const size = frameSize(this.#buf);
    if (size === null) {
      // the header itself is split: a few bytes, join them with the chunk and split that
      const data = join(this.#buf, chunk);
      this.#buf = EMPTY;
      this.#split(data, 0, frames);
      return -1;
    }
    const need = size - this.#buf.length;
    if (chunk.length < need) {
      this.#buf = join(this.#buf, chunk);
      return -1;
    }
    const bytes = join(this.#buf, chunk.subarray(0, need));
    frames.push({ kind: bytes[0] === TPKT_VERSION ? "tpkt" : "fastpath", bytes });
    return need;
  }

  /** Whole frames of data[at..] into `frames`; the incomplete rest is kept. */
  #split(data: Uint8Array, at: number, frames: Frame[]): void {
    while (at < data.length) {
      const size = frameSize(data.subarray(at));
      if (size === null || at + size > data.length) break;
      frames.push({
        kind: data[at] === TPKT_VERSION ? "tpkt" : "fastpath",
        bytes: data.subarray(at, at + size),
      });
      at += size;
    }
    // a view keeps the chunk alive until the next push, which copies the rest of the frame out
    this.#buf = at === data.length ? EMPTY : data.subarray(at);
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
