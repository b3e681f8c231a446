// Typed errors of the RDP renderer: every decoder turns malformed or unsupported input into one.

export type RenderErrorCode =
  /** A structure ends before its fields do. */
  | "truncated"
  /** Field values that cannot be valid (lengths, sizes, run lengths past the bitmap…). */
  | "malformed"
  /** Something valid we deliberately do not decode: orders, palette, surface commands, 8 bpp… */
  | "unsupported_update"
  /** Bulk-compressed PDU: the capture proxy should have disabled compression. */
  | "compressed"
  /** Encrypted (Standard RDP Security) PDU: only TLS-terminated captures are supported. */
  | "encrypted"
  /** A Cached Pointer update names a slot that was never filled. */
  | "pointer_cache_miss";

export class RenderError extends Error {
  override name = "RenderError";
  constructor(readonly code: RenderErrorCode, message: string) {
    super(message);
  }
}

export const malformed = (message: string): RenderError => new RenderError("malformed", message);
export const unsupported = (message: string): RenderError => new RenderError("unsupported_update", message);
