// Bounds-checked little-endian reader over a byte slice; every overrun is a RenderError.

import { RenderError } from "./errors.ts";

export class ByteReader {
  #pos: number;
  readonly #end: number;

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw new RangeError("ByteReader bounds");
    this.#pos = start;
    this.#end = end;
  }

  get pos(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, what: string): number {
    if (n < 0 || this.#pos + n > this.#end) {
      throw new RenderError("truncated", `${what}: need ${n} bytes, ${this.remaining} left`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(what = "u8"): number {
    return this.buf[this.#need(1, what)];
  }

  u16(what = "u16"): number {
    const i = this.#need(2, what);
    return this.buf[i] | (this.buf[i + 1] << 8);
  }

  i16(what = "i16"): number {
    return (this.u16(what) << 16) >> 16;
  }

  u32(what = "u32"): number {
    const i = this.#need(4, what);
    return (this.buf[i] | (this.buf[i + 1] << 8) | (this.buf[i + 2] << 16) | (this.buf[i + 3] << 24)) >>> 0;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number, what = "bytes"): Uint8Array {
    const i = this.#need(n, what);
    return this.buf.subarray(i, i + n);
  }

  skip(n: number, what = "skip"): void {
    this.#need(n, what);
  }

  /** A reader over the next n bytes; this reader moves past them. */
  sub(n: number, what = "sub"): ByteReader {
    const i = this.#need(n, what);
    return new ByteReader(this.buf, i, i + n);
  }
}
