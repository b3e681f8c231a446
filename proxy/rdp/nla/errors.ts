/**
 * Typed failures of the NLA (CredSSP/NTLM) state machines. The pure codecs in this folder throw
 * RdpParseError (shared with proxy/rdp/pdu); the state machines turn every failure, parse errors
 * included, into an NlaError and never let anything else escape.
 */

export type NlaErrorCode =
  /** A TSRequest, SPNEGO or NTLM message could not be parsed (the cause is an RdpParseError). */
  | "malformed"
  /** A well-formed message arrived where the protocol does not allow it, or lacks a required field. */
  | "protocol"
  /** The peer asked for something this implementation does not do (NTLMv1, smart-card credentials…). */
  | "unsupported"
  /** The NTLM proof did not verify: wrong password, or an unknown user (not told apart on the wire). */
  | "logon_failure"
  /** The NTLM MIC or SPNEGO mechListMIC did not verify (tampered handshake). */
  | "integrity"
  /** The TLS public key binding (pubKeyAuth) did not match: a man in the middle or a wrong key. */
  | "binding"
  /** The TSCredentials name differs from the NTLM-authenticated name. */
  | "user_mismatch"
  /** The TSCredentials password is not the one the NTLM proof was made with. */
  | "password_mismatch"
  /** The peer reported a failure (TSRequest errorCode), or closed/denied the early authorization. */
  | "peer_error"
  /** The account's NT hash lookup failed (an I/O error in the injected function). */
  | "lookup";

export class NlaError extends Error {
  override readonly name = "NlaError";
  /** The NTSTATUS/SSPI code a peer reported, or the one we report to the peer. */
  readonly status: number | null;
  constructor(readonly code: NlaErrorCode, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.status = options?.status ?? null;
  }
}

/** NTSTATUS / SSPI codes carried in TSRequest.errorCode (MS-CSSP 2.2.1, v3+). */
export const STATUS_LOGON_FAILURE = 0xc000006d;
export const STATUS_ACCOUNT_RESTRICTION = 0xc000006e;
export const SEC_E_INVALID_TOKEN = 0x80090308;
export const SEC_E_MESSAGE_ALTERED = 0x8009030f;
export const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302;
export const SEC_E_LOGON_DENIED = 0x8009030c;

/** Any failure as an NlaError: parse errors become "malformed", unknown ones "protocol". */
export function asNlaError(e: unknown): NlaError {
  if (e instanceof NlaError) return e;
  if (e instanceof Error && e.name === "RdpParseError") {
    return new NlaError("malformed", e.message, { cause: e });
  }
  return new NlaError("protocol", e instanceof Error ? e.message : String(e), { cause: e });
}
