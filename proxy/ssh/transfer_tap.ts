// Watches SFTP and legacy SCP streams passing through the proxy and reports file names and sizes for the
// session metadata. Streaming and total: file contents are skipped, never buffered; anything malformed
// stops the tap (TransferTapError) without touching the relayed bytes. The taps themselves are sftp_tap.ts
// and scp_tap.ts; this file holds what they share.

export interface Transfer {
  protocol: "sftp" | "scp";
  /** sftp: opened for reading/writing; scp: upload = client to server */
  op:
    | "read"
    | "write"
    | "read+write"
    | "open"
    | "upload"
    | "download"
    | "remove"
    | "rename"
    | "mkdir"
    | "rmdir";
  path: string;
  bytes: number;
  /** rename target */
  to?: string;
  /**
   * SHA-256 (hex) of the content that passed, when it passed whole and in order from the start (scp always;
   * SFTP when the client read or wrote the file sequentially, as OpenSSH's sftp and scp do)
   */
  sha256?: string;
  /** the channel ended before the whole file passed */
  incomplete?: boolean;
  /** the server group keeps files: whether this one's content was stored (recorder/file_store.ts) */
  kept?: boolean;
  /** why the content was not stored: larger than the cap, not passed whole and in order, a disk error */
  not_kept?: "over_cap" | "incomplete" | "error";
  cap_bytes?: number;
}

/** Where a file's bytes also go while they pass, beside their hash (a kept copy of the file). */
export interface ContentSink {
  write(chunk: Uint8Array): void;
}

/**
 * Called when a file's content starts to pass (its size when the protocol announces it): where its bytes go
 * too, or null. The tap hands the same sink back with the file's Transfer when it ends.
 */
export type OpenContent = (t: Transfer, declaredSize?: number) => ContentSink | null;

/** What a tap reports: a file or operation, with the sink its content went to (if any). */
export type EmitTransfer = (t: Transfer, sink?: ContentSink | null) => void;

export class TransferTapError extends Error {
  override name = "TransferTapError";
  constructor(readonly code: "too_large" | "malformed", message: string) {
    super(message);
  }
}

/** Longest file name a tap accepts (SFTP and SCP); a longer one stops the tap as malformed. */
export const MAX_NAME = 4096;
