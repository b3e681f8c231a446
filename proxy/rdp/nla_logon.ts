// The logon side of an NLA connection: the jump user CredSSP proved on the client leg, the Windows logon
// the backend gets (vault, passthrough or none: backend_logon.ts decides, the vault read fails closed),
// CredSSP towards the backend, and what the backend's Client Info carries.
import type tls from "node:tls";
import { type Allow, parseRdpUserName, type Server } from "../../policy/mod.ts";
import { type AuditContext, nlaFailed } from "./audit.ts";
import { type Backend, BackendError } from "./backend.ts";
import { type LogonPlan, planBackendLogon, type VaultEntry } from "./backend_logon.ts";
import { RdpProxyError } from "./errors.ts";
import { isNla } from "./negotiation.ts";
import { parseEarlyUserAuthResult } from "./nla/early_auth.ts";
import { readExactly } from "./nla_io.ts";
import type { Logon } from "./nla_steps.ts";
import type { ClientInfoLogon } from "./pdu/mod.ts";
import { PROTOCOL_HYBRID_EX } from "./pdu/mod.ts";
import type { ProxyContext } from "./proxy_context.ts";

/** The user NLA proved, and what they typed. */
export interface Proven {
  jumpUser: string;
  /** The vaulted login named after '+' in the user name, or null. */
  namedLogin: string | null;
  /** TSCredentials with the verification code taken off the user name: the jump password is never
   *  forwarded except by passthrough. */
  logon: Logon;
  /** The verification code typed after the user name, or null. */
  mfaCode: string | null;
}

/** CredSSP with the client; null when it failed (the client was told, the failure audited). */
export async function authenticateClient(
  p: ProxyContext,
  ctx: AuditContext,
  stream: tls.TLSSocket,
  sourceIp: string,
  certificatePem: string,
): Promise<Proven | null> {
  const nla = p.nla;
  if (!nla) throw new RdpProxyError("protocol", "NLA selected without a CredSSP implementation");
  const r = await nla.acceptClient(stream, { sourceIp, certificatePem, timeoutMs: p.timeouts.nlaMs });
  if (!r.ok) {
    if (r.userName) ctx.userName = r.userName;
    p.metrics?.denials.inc({ protocol: "rdp", reason: r.reason });
    p.audit(nlaFailed(ctx, r.action, r.reason, r.detail));
    return null;
  }
  // the NTLM proof covered these names (the code included); the credential parser already accepted them
  const name = parseRdpUserName(r.logon.domain, r.logon.user, p.mfaSeparator);
  ctx.userName = name.jumpUser;
  return {
    jumpUser: name.jumpUser,
    namedLogin: name.backendLoginText,
    logon: { ...r.logon, user: name.user },
    mfaCode: name.mfaCode,
  };
}

/** The vault (or passthrough, where allowed) decides what the backend gets; the vault read fails closed. */
export async function planLogon(
  p: Pick<ProxyContext, "vault" | "log">,
  server: Server,
  decision: Allow,
  proven: Proven,
): Promise<LogonPlan> {
  let vault: VaultEntry[] = [];
  if (p.vault) {
    const r = await p.vault.credentialsFor(server.id);
    if (!r.ok) {
      p.log.error("cannot read the server's credential vault", { server: server.name, error: r.detail });
      return { kind: "deny", reason: "credential_unreadable", detail: r.detail };
    }
    vault = r.credentials;
  }
  return planBackendLogon({
    serverName: server.name,
    jumpUser: proven.jumpUser,
    typed: { domain: proven.logon.domain, password: proven.logon.password },
    namedLogin: proven.namedLogin,
    vault,
    allowedLogins: decision.logins,
    passthrough: server.passwordPassthrough,
  });
}

/** CredSSP with the backend, then (HYBRID_EX) its Early User Authorization Result; throws BackendError. */
export async function authenticateBackend(p: ProxyContext, backend: Backend, logon: Logon): Promise<void> {
  const t = p.timeouts.handshakeStepMs;
  await p.nla!.authenticateBackend(backend.leg.stream, logon, { timeoutMs: t });
  if (backend.selectedProtocol === PROTOCOL_HYBRID_EX) {
    const r = parseEarlyUserAuthResult(
      await readExactly(backend.leg.stream, 4, t, "Early User Authorization"),
    );
    if (!r.ok) {
      throw new BackendError(
        `the backend refused the user after NLA (authorization result ${r.code})`,
        "nla_failed",
      );
    }
  }
}

/**
 * Pure: what the backend sees in the Client Info. TLS clients typed their Windows logon themselves: kept.
 * NLA clients typed their jump password: never forwarded; the backend gets the injected logon (no
 * password over NLA, where CredSSP carried it) or just the user name to prompt for.
 */
export function clientInfoLogon(
  proven: Logon | null,
  backendLogon: Logon | null,
  backendProtocol: number,
): ClientInfoLogon | undefined {
  if (backendLogon) {
    return {
      domain: backendLogon.domain,
      userName: backendLogon.user,
      password: isNla(backendProtocol) ? "" : backendLogon.password,
    };
  }
  if (proven) return { domain: proven.domain, userName: proven.user, password: "" };
  return undefined;
}
