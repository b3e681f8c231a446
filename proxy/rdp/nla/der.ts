/**
 * The small ASN.1 DER subset TSRequest, TSCredentials, SPNEGO and X.509 need: single-byte tags,
 * definite lengths up to 4 bytes, INTEGER, OCTET STRING, OID, ENUMERATED, BIT STRING, SEQUENCE and
 * context tags. Decoding is bounds-checked through ByteReader and throws only RdpParseError.
 */
import { ensure } from "../pdu/errors.ts";
import { ByteReader, concat } from "../pdu/reader.ts";

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_ENUMERATED = 0x0a;
export const TAG_SEQUENCE = 0x30;
/** GSS-API InitialContextToken ([APPLICATION 0] constructed). */
export const TAG_APPLICATION_0 = 0x60;
/** Context-specific constructed tag [n]. */
export const ctxTag = (n: number): number => 0xa0 | n;

/** Hard bound on any one DER structure (a TSRequest carrying credentials is a few KiB). */
export const DER_MAX_LENGTH = 1 << 20;

export interface Tlv {
  tag: number;
  content: Uint8Array;
  /** The whole encoding, header included (what a signature covers). */
  raw: Uint8Array;
}

/** Read one TLV from `r`. */
export function readTlv(r: ByteReader, what = "der value"): Tlv {
  const start = r.offset;
  const tag = r.u8(`${what} tag`);
  ensure((tag & 0x1f) !== 0x1f, "unsupported", `der: multi-byte tag in ${what}`);
  const first = r.u8(`${what} length`);
  let len = first;
  if (first >= 0x80) {
    const n = first & 0x7f;
    ensure(n !== 0, "unsupported", `der: indefinite length in ${what}`);
    ensure(n <= 4, "too_large", `der: ${n}-byte length in ${what}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + r.u8(`${what} length`);
  }
  ensure(len <= DER_MAX_LENGTH, "too_large", `der: ${what} of ${len} bytes`);
  const content = r.bytesView(len, what);
  return { tag, content, raw: r.bytes.subarray(start, r.offset) };
}

/** Exactly one TLV with the expected tag filling `bytes`. */
export function parseTlv(bytes: Uint8Array, tag: number, what: string): Tlv {
  const r = new ByteReader(bytes, what);
  const t = readTlv(r, what);
  expectTag(t, tag, what);
  r.expectEnd(what);
  return t;
}

export function expectTag(t: Tlv, tag: number, what: string): void {
  ensure(
    t.tag === tag,
    "invalid",
    `der: expected tag 0x${tag.toString(16)} for ${what}, got 0x${t.tag.toString(16)}`,
  );
}

/** The TLVs inside a constructed value. */
export function children(t: Tlv, what: string): Tlv[] {
  ensure((t.tag & 0x20) !== 0, "invalid", `der: ${what} is not constructed`);
  const r = new ByteReader(t.content, what);
  const out: Tlv[] = [];
  while (r.remaining > 0) out.push(readTlv(r, what));
  return out;
}

/**
 * The fields of a SEQUENCE of context-tagged [n] EXPLICIT members, by n. Unknown tags are kept (and
 * ignored by callers, as ASN.1 extensibility wants); a repeated tag is invalid.
 */
export function taggedFields(seq: Tlv, what: string): Map<number, Tlv> {
  expectTag(seq, TAG_SEQUENCE, what);
  const out = new Map<number, Tlv>();
  for (const c of children(seq, what)) {
    ensure((c.tag & 0xe0) === 0xa0, "invalid", `der: ${what} member with tag 0x${c.tag.toString(16)}`);
    const n = c.tag & 0x1f;
    ensure(!out.has(n), "invalid", `der: ${what} repeats [${n}]`);
    const inner = children(c, `${what}[${n}]`);
    ensure(inner.length === 1, "invalid", `der: ${what}[${n}] holds ${inner.length} values`);
    out.set(n, inner[0]);
  }
  return out;
}

/**
 * An INTEGER as an unsigned 32-bit number. Also accepts the 4-byte two's-complement form peers use
 * for NTSTATUS codes (c0 00 00 6d), read as unsigned.
 */
export function readUint32(t: Tlv, what: string, tag = TAG_INTEGER): number {
  expectTag(t, tag, what);
  const c = t.content;
  ensure(c.length >= 1 && c.length <= 5, "invalid", `der: ${what} has ${c.length} content bytes`);
  ensure(c.length < 5 || c[0] === 0, "too_large", `der: ${what} exceeds 32 bits`);
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

export function readOctets(t: Tlv, what: string): Uint8Array {
  expectTag(t, TAG_OCTET_STRING, what);
  return t.content;
}

// ---- encoding ----

export function encodeLength(n: number): Uint8Array {
  ensure(Number.isInteger(n) && n >= 0 && n <= DER_MAX_LENGTH, "too_large", `der: length ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  return concat(Uint8Array.of(tag), encodeLength(body.length), body);
}
export const sequence = (...members: Uint8Array[]): Uint8Array => tlv(TAG_SEQUENCE, ...members);
export const explicit = (n: number, value: Uint8Array): Uint8Array => tlv(ctxTag(n), value);
export const octetString = (b: Uint8Array): Uint8Array => tlv(TAG_OCTET_STRING, b);

/**
 * INTEGER from an unsigned 32-bit value. Values with the top bit set are written in 4 bytes (the
 * two's-complement form Windows and FreeRDP use for NTSTATUS error codes).
 */
export function integer(v: number, tag = TAG_INTEGER): Uint8Array {
  ensure(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, "too_large", `der: integer ${v}`);
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x > 0);
  if (bytes[0] & 0x80 && bytes.length < 4) bytes.unshift(0);
  return tlv(tag, Uint8Array.from(bytes));
}

/** OID from its dotted form. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  ensure(arcs.length >= 2 && arcs.every((a) => Number.isInteger(a) && a >= 0), "invalid", `oid ${dotted}`);
  const out: number[] = [arcs[0] * 40 + arcs[1]];
  for (const a of arcs.slice(2)) {
    const groups: number[] = [];
    let x = a;
    do {
      groups.unshift(x & 0x7f);
      x = Math.floor(x / 128);
    } while (x > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
    out.push(...groups);
  }
  return tlv(TAG_OID, Uint8Array.from(out));
}

/**
 * Bytes needed for the first complete TLV in `buf`: null while the header is incomplete, else the
 * total (which may exceed buf.length while the value is still arriving). Throws on a bad header.
 */
export function tlvFrameLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  ensure((buf[0] & 0x1f) !== 0x1f, "unsupported", "der: multi-byte tag");
  const first = buf[1];
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  ensure(n !== 0, "unsupported", "der: indefinite length");
  ensure(n <= 4, "too_large", `der: ${n}-byte length`);
  if (buf.length < 2 + n) return null;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i];
  ensure(len <= DER_MAX_LENGTH, "too_large", `der: value of ${len} bytes`);
  return 2 + n + len;
}
