// The backend leg of an admitted connection, from TCP to logged on: X.224 and TLS (backend.ts), the
// certificate pin (backend_cert.ts), the vaulted credential's use (audited), CredSSP when the backend chose
// NLA (nla_logon.ts). Every failure is audited and logged here; the caller refuses the client.
import type net from "node:net";
import type { Server } from "../../policy/mod.ts";
import { type AuditContext, backendFailed, certRefused, credentialUsed } from "./audit.ts";
import { type Backend, BackendError, openBackend } from "./backend.ts";
import { verifyBackendCert } from "./backend_cert.ts";
import type { LogonPlan } from "./backend_logon.ts";
import type { TlsLeg } from "./handshake.ts";
import { backendRequestedProtocols, isNla } from "./negotiation.ts";
import { authenticateBackend } from "./nla_logon.ts";
import type { Logon } from "./nla_steps.ts";
import type { ProxyContext } from "./proxy_context.ts";

/** The logon the backend gets from the proxy: a vaulted or passed-through one, or none. */
export function injectedLogon(plan: LogonPlan | null): Logon | null {
  return plan && (plan.kind === "vault" || plan.kind === "passthrough") ? plan.logon : null;
}

export interface BackendSetup {
  server: Server;
  /** the client's X.224 Connection Request, forwarded as it came */
  crFrame: Uint8Array;
  plan: LogonPlan | null;
  /** each part as soon as it exists, so that a kill can destroy it mid-handshake */
  onSocket: (s: net.Socket) => void;
  onLeg: (leg: TlsLeg) => void;
  onPhase: (phase: string) => void;
}

/** The backend, logged on; null when it failed (audited, logged). */
export async function setUpBackend(
  p: ProxyContext,
  ctx: AuditContext,
  o: BackendSetup,
): Promise<Backend | null> {
  const { server, plan } = o;
  const logon = injectedLogon(plan);
  const where = `${server.address}:${server.rdpPort}`;
  let backend: Backend;
  try {
    backend = await openBackend(
      server,
      o.crFrame,
      backendRequestedProtocols(logon !== null && p.nla !== undefined),
      p.timeouts,
      o.onSocket,
    );
    o.onLeg(backend.leg);
  } catch (e) {
    let reason: string = e instanceof BackendError ? e.reason : "unreachable";
    let message = (e as Error).message;
    if (reason === "nla_required" && plan?.kind === "none") {
      // the backend asked for NLA at the negotiation; no credential was, or will be, sent to it
      reason = "passthrough_disabled";
      message = `the backend requires Network Level Authentication; password passthrough is off for ` +
        `server ${server.name} and its vault holds no credential (store one with \`jumphost server ` +
        `credential\`, or turn passthrough on)`;
    }
    p.audit(backendFailed(ctx, where, message, reason));
    p.log.warn("RDP backend failed", { server: server.name, error: (e as Error).message });
    return null;
  }
  const cert = await verifyBackendCert(p.certPins, server.id, backend.leg.stream);
  if (!cert.ok) {
    p.audit(certRefused(ctx, where, cert.sha256, cert.detail));
    p.log.warn("RDP backend certificate refused", { server: server.name, sha256: cert.sha256 });
    return null;
  }
  if (plan?.kind === "vault") {
    p.audit(credentialUsed(ctx, plan.login, isNla(backend.selectedProtocol) ? "nla" : "client_info"));
  }
  if (isNla(backend.selectedProtocol)) {
    o.onPhase("backend_nla");
    try {
      await authenticateBackend(p, backend, logon!);
    } catch (e) {
      p.audit(backendFailed(ctx, where, (e as Error).message, "nla_failed"));
      p.log.warn("RDP backend NLA failed", { server: server.name, error: (e as Error).message });
      return null;
    }
  }
  return backend;
}
