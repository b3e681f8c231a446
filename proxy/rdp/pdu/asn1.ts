/**
 * The small BER (T.125 connect PDUs) and aligned-PER (T.125 domain PDUs, T.124 GCC) primitives RDP
 * needs. Length encoders accept a preferred width so re-encoding an unchanged PDU is byte-identical
 * even when the peer used a non-minimal form (e.g. BER `82 01 94`, PER `81 2a`).
 */
import { ensure } from "./errors.ts";
import type { ByteReader } from "./reader.ts";

export interface EncodedLength {
  value: number;
  /** Bytes the length occupied on the wire. */
  width: number;
}

/** BER identifier octets (supports the high-tag-number form, e.g. 7f 65). Returns the tag as a number. */
export function berReadTag(r: ByteReader): number {
  const first = r.u8("ber tag");
  if ((first & 0x1f) !== 0x1f) return first;
  let tag = first;
  for (let i = 0; i < 3; i++) {
    const b = r.u8("ber tag");
    tag = tag * 256 + b;
    if ((b & 0x80) === 0) return tag;
  }
  ensure(false, "unsupported", "ber: tag number too large");
}

export function berReadLength(r: ByteReader): EncodedLength {
  const first = r.u8("ber length");
  if (first < 0x80) return { value: first, width: 1 };
  const n = first & 0x7f;
  ensure(n !== 0, "unsupported", "ber: indefinite length");
  ensure(n <= 3, "too_large", `ber: ${n}-byte length`);
  let value = 0;
  for (let i = 0; i < n; i++) value = value * 256 + r.u8("ber length");
  return { value, width: n + 1 };
}

export function berEncodeLength(value: number, preferredWidth = 0): Uint8Array {
  ensure(Number.isInteger(value) && value >= 0 && value <= 0xffffff, "too_large", `ber: length ${value}`);
  const minimal = value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : 4;
  const width = preferredWidth >= minimal && preferredWidth <= 4 ? preferredWidth : minimal;
  if (width === 1) return Uint8Array.of(value);
  const out = new Uint8Array(width);
  out[0] = 0x80 | (width - 1);
  for (let i = width - 1, v = value; i >= 1; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

/** Read a TLV with the expected tag; returns a reader over its contents. */
export function berExpect(r: ByteReader, tag: number, what: string): ByteReader {
  const got = berReadTag(r);
  ensure(
    got === tag,
    "invalid",
    `ber: expected tag 0x${tag.toString(16)} for ${what}, got 0x${got.toString(16)}`,
  );
  const len = berReadLength(r);
  return r.sub(len.value, what);
}

/** Unsigned INTEGER/ENUMERATED contents (1..4 significant bytes, optional leading 0). */
export function berUint(r: ByteReader, tag: number, what: string): number {
  const c = berExpect(r, tag, what);
  ensure(c.length >= 1 && c.length <= 5, "invalid", `ber: ${what} has ${c.length} content bytes`);
  let v = 0;
  for (let i = 0; i < c.length; i++) v = v * 256 + c.u8(what);
  ensure(v <= 0xffffffff, "too_large", `ber: ${what} exceeds 32 bits`);
  return v;
}

export const BER_BOOLEAN = 0x01;
export const BER_INTEGER = 0x02;
export const BER_OCTET_STRING = 0x04;
export const BER_ENUMERATED = 0x0a;
export const BER_SEQUENCE = 0x30;

/**
 * PER length determinant. RDP peers (FreeRDP, xrdp, Windows) use the two-byte form with a 15-bit
 * value and never PER fragmentation, so `1xxxxxxx yyyyyyyy` is read as ((x & 0x7f) << 8) | y.
 */
export function perReadLength(r: ByteReader): EncodedLength {
  const first = r.u8("per length");
  if (first < 0x80) return { value: first, width: 1 };
  return { value: ((first & 0x7f) << 8) | r.u8("per length"), width: 2 };
}

export function perEncodeLength(value: number, preferredWidth = 0): Uint8Array {
  ensure(Number.isInteger(value) && value >= 0 && value <= 0x7fff, "too_large", `per: length ${value}`);
  if (value < 0x80 && preferredWidth !== 2) return Uint8Array.of(value);
  return Uint8Array.of(0x80 | (value >> 8), value & 0xff);
}
