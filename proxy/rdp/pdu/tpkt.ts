/** TPKT (T.123 section 8) and the fast-path length header (MS-RDPBCGR 2.2.8.1.2 / 2.2.9.1.2). */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter } from "./reader.ts";

export const TPKT_VERSION = 3;
export const TPKT_HEADER_LENGTH = 4;
/** Smallest sane TPKT: header + a 3-byte X.224 Data TPDU. */
export const TPKT_MIN_LENGTH = 7;
export const TPKT_MAX_LENGTH = 0xffff;
/** Fast-path lengths are 15 bits. */
export const FASTPATH_MAX_LENGTH = 0x7fff;

export interface Tpkt {
  /** Total length from the header (includes the 4 header bytes). */
  length: number;
  /** The X.224 TPDU carried (view into the input). */
  payload: Uint8Array;
}

/** Parse exactly one whole TPKT frame (the input must be the entire frame). */
export function parseTpkt(frame: Uint8Array): Tpkt {
  const r = new ByteReader(frame, "tpkt");
  ensure(r.u8("version") === TPKT_VERSION, "invalid", "tpkt: version is not 3");
  r.u8("reserved");
  const length = r.u16be("length");
  ensure(length >= TPKT_MIN_LENGTH, "too_large", `tpkt: absurd length ${length}`);
  ensure(length === frame.length, "length_mismatch", `tpkt: length ${length} but frame has ${frame.length}`);
  return { length, payload: r.rest() };
}

export function encodeTpkt(payload: Uint8Array): Uint8Array {
  const length = payload.length + TPKT_HEADER_LENGTH;
  ensure(length <= TPKT_MAX_LENGTH, "too_large", `tpkt: payload of ${payload.length} bytes does not fit`);
  return new ByteWriter(length).u8(TPKT_VERSION).u8(0).u16be(length).bytes(payload).finish();
}

export interface FastPathHeader {
  /** Bits 2..5 of the first byte: numEvents (input) or reserved (output). */
  numEventsOrReserved: number;
  /** Bits 6..7: FASTPATH_*_SECURE_CHECKSUM (1), FASTPATH_*_ENCRYPTED (2). */
  flags: number;
  /** Total PDU length including this header. */
  length: number;
  /** Bytes taken by the header (2 or 3). */
  headerLength: number;
}

/**
 * Read the fast-path header at the start of `b`. Returns null when more bytes are needed
 * to know the length. Throws when the first byte is not a fast-path action or the length is absurd.
 */
export function peekFastPathHeader(b: Uint8Array): FastPathHeader | null {
  if (b.length < 2) return null;
  const first = b[0];
  ensure(
    (first & 0x03) === 0,
    "invalid",
    `fast-path: action bits ${first & 3} are not FASTPATH_ACTION_FASTPATH`,
  );
  let length = b[1];
  let headerLength = 2;
  if (length & 0x80) {
    if (b.length < 3) return null;
    length = ((length & 0x7f) << 8) | b[2];
    headerLength = 3;
  }
  ensure(length > headerLength, "too_large", `fast-path: absurd length ${length}`);
  return { numEventsOrReserved: (first >> 2) & 0x0f, flags: first >> 6, length, headerLength };
}

/** Encode the fast-path length (1 byte if < 0x80 unless `forceLong`, else 2 bytes). Includes itself. */
export function encodeFastPathHeader(firstByte: number, bodyLength: number, forceLong = false): Uint8Array {
  const short = !forceLong && bodyLength + 2 < 0x80;
  const length = bodyLength + (short ? 2 : 3);
  ensure(length <= FASTPATH_MAX_LENGTH, "too_large", `fast-path: body of ${bodyLength} bytes does not fit`);
  const w = new ByteWriter(3).u8(firstByte);
  if (short) w.u8(length);
  else w.u8(0x80 | (length >> 8)).u8(length & 0xff);
  return w.finish();
}
