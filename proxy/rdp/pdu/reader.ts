/** Bounds-checked byte reader and a growable writer; the only way parsers touch bytes. */
import { ensure, RdpParseError } from "./errors.ts";

export class ByteReader {
  #view: DataView;
  #pos = 0;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, readonly context = "pdu") {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#pos;
  }
  get remaining(): number {
    return this.bytes.length - this.#pos;
  }
  get length(): number {
    return this.bytes.length;
  }

  #need(n: number, what: string): void {
    if (!Number.isInteger(n) || n < 0 || this.#pos + n > this.bytes.length) {
      throw new RdpParseError(
        "truncated",
        `${this.context}: need ${n} byte(s) for ${what} at offset ${this.#pos}, have ${this.remaining}`,
      );
    }
  }

  u8(what = "u8"): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#pos++);
  }
  peekU8(what = "u8"): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#pos);
  }
  u16le(what = "u16"): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }
  i16le(what = "i16"): number {
    this.#need(2, what);
    const v = this.#view.getInt16(this.#pos, true);
    this.#pos += 2;
    return v;
  }
  u16be(what = "u16"): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.#pos, false);
    this.#pos += 2;
    return v;
  }
  u32le(what = "u32"): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }
  u32be(what = "u32"): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos, false);
    this.#pos += 4;
    return v;
  }
  /** u64 little-endian as a JS number; values above 2^53 are rejected. */
  u64le(what = "u64"): number {
    const lo = this.u32le(what);
    const hi = this.u32le(what);
    ensure(hi < 0x200000, "too_large", `${this.context}: ${what} exceeds 2^53`);
    return hi * 0x100000000 + lo;
  }
  /** A view (no copy) of the next n bytes. */
  bytesView(n: number, what = "bytes"): Uint8Array {
    this.#need(n, what);
    const out = this.bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  /** A copy of the next n bytes. */
  take(n: number, what = "bytes"): Uint8Array {
    return this.bytesView(n, what).slice();
  }
  rest(): Uint8Array {
    return this.bytesView(this.remaining, "rest");
  }
  skip(n: number, what = "padding"): void {
    this.#need(n, what);
    this.#pos += n;
  }
  /** A reader over the next n bytes; this reader moves past them. */
  sub(n: number, what = "sub-structure"): ByteReader {
    return new ByteReader(this.bytesView(n, what), `${this.context}/${what}`);
  }
  expectEnd(what = "structure"): void {
    ensure(
      this.remaining === 0,
      "trailing_data",
      `${this.context}: ${this.remaining} unexpected byte(s) after ${what}`,
    );
  }
}

/** Growable little/big-endian writer. Values out of range throw RdpParseError("too_large"). */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initial = 64) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#len;
  }

  #grow(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #check(v: number, max: number, what: string): void {
    ensure(Number.isInteger(v) && v >= 0 && v <= max, "too_large", `cannot encode ${what}=${v}`);
  }

  u8(v: number, what = "u8"): this {
    this.#check(v, 0xff, what);
    this.#grow(1);
    this.#view.setUint8(this.#len++, v);
    return this;
  }
  u16le(v: number, what = "u16"): this {
    this.#check(v, 0xffff, what);
    this.#grow(2);
    this.#view.setUint16(this.#len, v, true);
    this.#len += 2;
    return this;
  }
  u16be(v: number, what = "u16"): this {
    this.#check(v, 0xffff, what);
    this.#grow(2);
    this.#view.setUint16(this.#len, v, false);
    this.#len += 2;
    return this;
  }
  u32le(v: number, what = "u32"): this {
    this.#check(v, 0xffffffff, what);
    this.#grow(4);
    this.#view.setUint32(this.#len, v, true);
    this.#len += 4;
    return this;
  }
  u32be(v: number, what = "u32"): this {
    this.#check(v, 0xffffffff, what);
    this.#grow(4);
    this.#view.setUint32(this.#len, v, false);
    this.#len += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.#grow(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }
  zeros(n: number): this {
    this.#grow(n);
    this.#buf.fill(0, this.#len, this.#len + n);
    this.#len += n;
    return this;
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Patch little-endian integers into a copy-owned buffer (bounds-checked). */
export function patchU16le(buf: Uint8Array, at: number, v: number): void {
  ensure(at >= 0 && at + 2 <= buf.length, "truncated", `patch u16 at ${at} outside ${buf.length}`);
  ensure(Number.isInteger(v) && v >= 0 && v <= 0xffff, "too_large", `cannot encode u16=${v}`);
  buf[at] = v & 0xff;
  buf[at + 1] = v >>> 8;
}
export function patchU32le(buf: Uint8Array, at: number, v: number): void {
  ensure(at >= 0 && at + 4 <= buf.length, "truncated", `patch u32 at ${at} outside ${buf.length}`);
  ensure(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, "too_large", `cannot encode u32=${v}`);
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(at, v, true);
}

const utf16 = new TextDecoder("utf-16le");
const latin1 = new TextDecoder("latin1");

/** UTF-16LE to string, dropping everything from the first NUL. Odd trailing byte ignored. */
export function decodeUtf16z(b: Uint8Array): string {
  const s = utf16.decode(b.subarray(0, b.length & ~1));
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}
/** Single-byte text (latin1) up to the first NUL. */
export function decodeAsciiz(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return latin1.decode(nul < 0 ? b : b.subarray(0, nul));
}
export function encodeUtf16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >>> 8;
  }
  return out;
}

/** "03 00 00 2c ..." or "0300002c" to bytes (tests and fixtures). */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, "");
  ensure(clean.length % 2 === 0, "invalid", "odd hex length");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
