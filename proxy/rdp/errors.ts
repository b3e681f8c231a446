// Typed failures of the RDP proxy (outside the pure PDU codecs, which throw RdpParseError).

export type RdpProxyErrorCode =
  /** The client or backend broke the protocol in a way the codecs do not catch (wrong PDU order…). */
  | "protocol"
  /** A handshake step took too long. */
  | "timeout"
  /** The backend could not be reached or refused the connection. */
  | "backend"
  /** TLS could not be established on one leg. */
  | "tls"
  /** The peer went away while we waited for it. */
  | "closed"
  /** The certificate could not be generated or loaded. */
  | "certificate";

export class RdpProxyError extends Error {
  override readonly name = "RdpProxyError";
  constructor(readonly code: RdpProxyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by a relay hook to refuse a frame on policy grounds (e.g. a Client Info PDU naming a Windows login
 * the grant does not allow): the frame is not forwarded, the relay sends the given final PDUs and closes.
 */
export class FrameRefused extends Error {
  override readonly name = "FrameRefused";
  constructor(
    readonly reason: string,
    readonly detail: string,
    readonly toClient: Uint8Array[] = [],
    readonly toServer: Uint8Array[] = [],
  ) {
    super(`${reason}: ${detail}`);
  }
}
