// Watches SFTP and legacy SCP streams passing through the proxy and reports file names and sizes for the
// session metadata. Streaming and total: file contents are skipped, never buffered; anything malformed
// stops the tap (TransferTapError) without touching the relayed bytes.

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
}

export class TransferTapError extends Error {
  override name = "TransferTapError";
  constructor(readonly code: "too_large" | "malformed", message: string) {
    super(message);
  }
}

export { SftpTap } from "./sftp_tap.ts";
export { parseScpCommand, type ScpCommand, ScpTap } from "./scp_tap.ts";
