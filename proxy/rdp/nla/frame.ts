/** Splits a byte stream (decrypted TLS data) into whole TSRequest DER structures. */
import { ensure } from "../pdu/errors.ts";
import { concat } from "../pdu/reader.ts";
import { TAG_SEQUENCE, tlvFrameLength } from "./der.ts";

/** A TSRequest is a few KiB at most (smart-card credentials included); more is hostile. */
export const TSREQUEST_MAX = 64 * 1024;

export class TsRequestFramer {
  #buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    this.#buf = this.#buf.length ? concat(this.#buf, chunk) : chunk.slice();
  }

  /** The next whole TSRequest, or null until more bytes arrive. Throws RdpParseError on a bad header. */
  next(): Uint8Array | null {
    if (this.#buf.length === 0) return null;
    ensure(
      this.#buf[0] === TAG_SEQUENCE,
      "invalid",
      `TSRequest must start with 0x30, got 0x${this.#buf[0].toString(16)}`,
    );
    const n = tlvFrameLength(this.#buf);
    ensure(n === null || n <= TSREQUEST_MAX, "too_large", `TSRequest of ${n} bytes`);
    if (n === null || n > this.#buf.length) return null;
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Bytes received after the last whole message (e.g. an MCS PDU sent right behind authInfo). */
  takeRest(): Uint8Array {
    const r = this.#buf;
    this.#buf = new Uint8Array(0);
    return r;
  }

  get buffered(): number {
    return this.#buf.length;
  }
}
