// The backend leg up to TLS: dial, forward the client's Connection Request asking for TLS only, check
// the Connection Confirm, upgrade. A failure carries the negotiation failure code to show the client.
import type net from "node:net";
import {
  type ConnectionConfirm,
  parseConnectionConfirm,
  PROTOCOL_SSL,
  rewriteConnectionRequest,
  SSL_CERT_NOT_ON_SERVER,
} from "./pdu/mod.ts";
import { connectTls, dialBackend, readPlainTpkt, type TlsLeg, writeAll } from "./handshake.ts";
import { RdpProxyError } from "./errors.ts";

export class BackendError extends RdpProxyError {
  constructor(
    message: string,
    /** RDP_NEG_FAILURE code for the client (the backend's own, or SSL_CERT_NOT_ON_SERVER). */
    readonly refusal: number,
    options?: ErrorOptions,
  ) {
    super("backend", message, options);
  }
}

export interface Backend {
  leg: TlsLeg;
  confirm: ConnectionConfirm;
  /** Flags of the backend's RDP_NEG_RSP. */
  flags: number;
}

export async function openBackend(
  target: { address: string; rdpPort: number },
  crFrame: Uint8Array,
  timeouts: { backendConnectMs: number; handshakeStepMs: number },
  /** Receives the raw socket as soon as it exists (so a kill can destroy it mid-handshake). */
  onSocket: (s: net.Socket) => void,
): Promise<Backend> {
  try {
    const b = await dialBackend(target.address, target.rdpPort, timeouts.backendConnectMs);
    onSocket(b);
    b.on("error", () => {});
    await writeAll(b, rewriteConnectionRequest(crFrame, PROTOCOL_SSL));
    const confirm = parseConnectionConfirm(
      await readPlainTpkt(b, timeouts.handshakeStepMs, "backend Connection Confirm"),
    );
    const n = confirm.negotiation;
    if (n?.type === "failure") {
      throw new BackendError(`backend refused TLS: RDP_NEG_FAILURE code ${n.failureCode}`, n.failureCode);
    }
    if (n?.type !== "response" || n.selectedProtocol !== PROTOCOL_SSL) {
      throw new BackendError(
        "backend did not select TLS (standard RDP security only?)",
        SSL_CERT_NOT_ON_SERVER,
      );
    }
    const leg = await connectTls(b, timeouts.handshakeStepMs);
    leg.stream.on("error", () => {});
    return { leg, confirm, flags: n.flags };
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError((e as Error).message, SSL_CERT_NOT_ON_SERVER, { cause: e });
  }
}
