/** Typed failure of every parser/encoder in proxy/rdp/pdu. Nothing else is ever thrown. */

export type RdpParseErrorCode =
  /** Input ended before a field could be read. */
  | "truncated"
  /** A field holds a value the spec does not allow (bad tag, version, type, flag combination). */
  | "invalid"
  /** A length field disagrees with the data actually present. */
  | "length_mismatch"
  /** A length is absurd (exceeds a hard bound) or a value cannot be encoded. */
  | "too_large"
  /** Valid per spec but not handled here (encryption, compression, unknown event codes...). */
  | "unsupported"
  /** Bytes left over after a structure that must end the buffer. */
  | "trailing_data";

export class RdpParseError extends Error {
  override readonly name = "RdpParseError";
  constructor(readonly code: RdpParseErrorCode, message: string) {
    super(message);
  }
}

/** Throw a typed error unless `ok`. */
export function ensure(ok: boolean, code: RdpParseErrorCode, message: string): asserts ok {
  if (!ok) throw new RdpParseError(code, message);
}
