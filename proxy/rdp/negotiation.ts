// Which security protocol each leg uses (pure). The client leg follows the target server's rdp_security
// and what the client offers; the backend leg asks for NLA only when the proxy has a credential to give.
import {
  HYBRID_REQUIRED_BY_SERVER,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
  SSL_REQUIRED_BY_SERVER,
} from "./pdu/mod.ts";

import type { RdpSecurity } from "../../policy/mod.ts";

export type ClientLegChoice =
  | { ok: true; protocol: number }
  | { ok: false; failureCode: number; reason: "nla_required" | "tls_required"; detail: string };

/** NLA is HYBRID or HYBRID_EX (which adds the Early User Authorization Result after CredSSP). */
export function isNla(protocol: number): boolean {
  return protocol === PROTOCOL_HYBRID || protocol === PROTOCOL_HYBRID_EX;
}

/** `requested`: the client's RDP_NEG_REQ requestedProtocols, null without one (standard RDP only). */
export function chooseClientProtocol(requested: number | null, security: RdpSecurity): ClientLegChoice {
  const offers = requested ?? 0;
  const nla = offers & PROTOCOL_HYBRID_EX
    ? PROTOCOL_HYBRID_EX
    : offers & PROTOCOL_HYBRID
    ? PROTOCOL_HYBRID
    : 0;
  const tls = offers & PROTOCOL_SSL ? PROTOCOL_SSL : 0;
  const what = requested === null ? "no RDP_NEG_REQ" : `requestedProtocols 0x${offers.toString(16)}`;
  if (security === "nla") {
    if (nla) return { ok: true, protocol: nla };
    return {
      ok: false,
      failureCode: HYBRID_REQUIRED_BY_SERVER,
      reason: "nla_required",
      detail: `the server requires Network Level Authentication; the client offered ${what}`,
    };
  }
  if (security === "any" && nla) return { ok: true, protocol: nla };
  if (tls) return { ok: true, protocol: tls };
  return {
    ok: false,
    failureCode: SSL_REQUIRED_BY_SERVER,
    reason: "tls_required",
    detail: requested === null || offers === 0
      ? "client offered only standard RDP security"
      : `the server allows TLS${security === "any" ? " or NLA" : ""}; the client offered ${what}`,
  };
}

/** What the proxy asks the backend for: NLA only with a credential to hand over, TLS always. */
export function backendRequestedProtocols(haveCredential: boolean): number {
  return haveCredential ? PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX : PROTOCOL_SSL;
}
