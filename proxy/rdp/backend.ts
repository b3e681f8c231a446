// The backend leg up to TLS: dial, forward the client's Connection Request asking for the protocols the
// proxy can serve on this leg (TLS; NLA too when it holds a credential), check the Connection Confirm,
// upgrade to TLS. A failure says why in words the audit row and the log can carry.
import type net from "node:net";
import {
  HYBRID_REQUIRED_BY_SERVER,
  parseConnectionConfirm,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
  rewriteConnectionRequest,
} from "./pdu/mod.ts";
import { connectTls, dialBackend, readPlainTpkt, type TlsLeg, writeAll } from "./handshake.ts";
import { RdpProxyError } from "./errors.ts";

export class BackendError extends RdpProxyError {
  constructor(
    message: string,
    /** For the audit row: why no session could be opened on this backend. */
    readonly reason: "unreachable" | "nla_required" | "negotiation" | "nla_failed" = "unreachable",
    options?: ErrorOptions,
  ) {
    super("backend", message, options);
  }
}

export interface Backend {
  leg: TlsLeg;
  /** What the backend selected: PROTOCOL_SSL, or HYBRID/HYBRID_EX (CredSSP comes next). */
  selectedProtocol: number;
  /** Flags of the backend's RDP_NEG_RSP. */
  flags: number;
}

const SERVABLE = [PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_HYBRID_EX];

export async function openBackend(
  target: { address: string; rdpPort: number },
  crFrame: Uint8Array,
  requestedProtocols: number,
  timeouts: { backendConnectMs: number; handshakeStepMs: number },
  /** Receives the raw socket as soon as it exists (so a kill can destroy it mid-handshake). */
  onSocket: (s: net.Socket) => void,
): Promise<Backend> {
  try {
    const b = await dialBackend(target.address, target.rdpPort, timeouts.backendConnectMs);
    onSocket(b);
    b.on("error", () => {});
    await writeAll(b, rewriteConnectionRequest(crFrame, requestedProtocols));
    const confirm = parseConnectionConfirm(
      await readPlainTpkt(b, timeouts.handshakeStepMs, "backend Connection Confirm"),
    );
    const n = confirm.negotiation;
    if (n?.type === "failure") {
      if (n.failureCode === HYBRID_REQUIRED_BY_SERVER && (requestedProtocols & PROTOCOL_HYBRID) === 0) {
        throw new BackendError(
          "the backend requires Network Level Authentication and no credential is available for it " +
            "(store one with `jumphost server credential`, or let users pass theirs through)",
          "nla_required",
        );
      }
      throw new BackendError(
        `backend refused the connection: RDP_NEG_FAILURE code ${n.failureCode}`,
        "negotiation",
      );
    }
    if (
      n?.type !== "response" || !SERVABLE.includes(n.selectedProtocol) ||
      (n.selectedProtocol & requestedProtocols) === 0
    ) {
      throw new BackendError(
        `backend did not select a requested protocol (asked 0x${requestedProtocols.toString(16)}, got ${
          n?.type === "response" ? `0x${n.selectedProtocol.toString(16)}` : "standard RDP security"
        })`,
        "negotiation",
      );
    }
    const leg = await connectTls(b, timeouts.handshakeStepMs);
    leg.stream.on("error", () => {});
    return { leg, selectedProtocol: n.selectedProtocol, flags: n.flags };
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError((e as Error).message, "unreachable", { cause: e });
  }
}
