// One accepted TCP connection, start to end: X.224 Connection Request → the client leg's protocol from
// the target server's rdp_security → our own Connection Confirm → client TLS → (NLA: CredSSP, the user
// proven) → policy decision → backend X.224 + TLS (+ CredSSP with a credential) → session row → relay
// through the MITM state machine with recording → close. No backend is contacted before the decision.
// Any failure ends this connection only, with an audit row saying why.
import { storedRecordingPath } from "../../recorder/recording_file.ts";
import type net from "node:net";
import { join } from "node:path";
import type { TerminationReason } from "../../db/sessions.ts";
import {
  type Allow,
  identifySource,
  parseRdpUserName,
  type RdpSecurity,
  redactRdpMfaCode,
  type Server,
} from "../../policy/mod.ts";
import {
  type ClientInfoLogon,
  type ConnectionRequest,
  encodeConnectionConfirm,
  encodeDisconnectProviderUltimatum,
  encodeSetErrorInfoFrame,
  ERRINFO_RPC_INITIATED_DISCONNECT,
  ERRINFO_SERVER_DENIED_CONNECTION,
  ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES,
  HYBRID_REQUIRED_BY_SERVER,
  parseConnectionRequest,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
  RdpParseError,
  RN_PROVIDER_INITIATED,
} from "./pdu/mod.ts";
import { acceptTls, readPlainTpkt, relayLeg, type TlsLeg, writeAll } from "./handshake.ts";
import { type Backend, BackendError, openBackend } from "./backend.ts";
import { verifyBackendCert } from "./backend_cert.ts";
import { type ConnectionOutcome, connectionOutcome } from "./connection_end.ts";
import { type Admission, admit, plainIp, routeServer } from "./admission.ts";
import { timedDecision } from "../worker_metrics.ts";
import {
  accessDenied,
  accessGranted,
  type AuditContext,
  backendFailed,
  certRefused,
  credentialUsed,
  mfaFailed,
  mfaOk,
  nlaFailed,
  protocolError,
} from "./audit.ts";
import { FrameRefused, RdpProxyError } from "./errors.ts";
import { gateClientInfoLogin } from "./login_gate.ts";
import { type LegRewrites, MitmState } from "./mitm_state.ts";
import { ConnectionTap } from "./connection_tap.ts";
import { RecordingTap } from "./recording_tap.ts";
import { Relay } from "./relay.ts";
import { refuseInsideTls, refuseNegotiation, refuseWithErrorInfo } from "./refusal.ts";
import { type LiveConnection, type LogicalSession, sessionKey } from "./session_registry.ts";
import type { ProxyContext } from "./proxy_context.ts";
import { backendRequestedProtocols, chooseClientProtocol, isNla } from "./negotiation.ts";
import type { Logon } from "./nla_steps.ts";
import {
  AUTHZ_ACCESS_DENIED,
  AUTHZ_SUCCESS,
  encodeEarlyUserAuthResult,
  parseEarlyUserAuthResult,
} from "./nla/early_auth.ts";
import { type LogonPlan, planBackendLogon, type VaultEntry } from "./backend_logon.ts";
import { readExactly, writeMessage } from "./nla_io.ts";

/** Above this many bytes waiting for the disk, the relay stops reading until the recording caught up. */
const RECORDING_HIGH_WATER = 2 * 1024 * 1024;

/** RDP_NEG_RSP flag: the client may send extended client data blocks (every current server sets it). */
const EXTENDED_CLIENT_DATA_SUPPORTED = 0x01;

/** src-ref of the proxy's own X.224 Connection Confirm (any value; the client does not check it). */
const PROXY_X224_REF = 0x1234;

/** Denials no proven user could change: an NLA client gets them before it is asked for a password. */
const DECIDED_BEFORE_PROOF = new Set([
  "policy_unavailable",
  "unknown_server",
  "unknown_source_ip",
  "server_inactive",
  "protocol_not_enabled",
]);

interface Negotiated {
  cr: ConnectionRequest;
  frame: Uint8Array;
  /** The protocol selected for the client leg. */
  protocol: number;
}

/** A server's rdp_security; an unroutable connection gets the TLS-only refusal path. */
function serverSecurity(server: Server | undefined): RdpSecurity {
  return server?.rdpSecurity ?? "tls";
}

/** The user NLA proved, and what they typed. */
interface Proven {
  jumpUser: string;
  /** The vaulted login named after '+' in the user name, or null. */
  namedLogin: string | null;
  /** TSCredentials with the verification code taken off the user name: the jump password is never
   *  forwarded except by passthrough. */
  logon: Logon;
  /** The verification code typed after the user name, or null. */
  mfaCode: string | null;
}

type SecondFactorCheck = { ok: true } | { ok: false; reason: string; detail: string };

/**
 * What the backend sees in the Client Info. TLS clients typed their Windows logon themselves: kept.
 * NLA clients typed their jump password: never forwarded; the backend gets the injected logon (no
 * password over NLA, where CredSSP carried it) or just the user name to prompt for.
 */
function clientInfoLogon(
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

export class ProxiedConnection implements LiveConnection {
  sourceIp = "";
  serverId = 0;
  cookie: string | null = null;
  /** set by NLA (CredSSP at the jump) once the user proved their password; null = not proven */
  provenUser: string | null = null;
  /** the Windows login, once known (see LiveConnection) */
  login: string | null = null;
  decision!: Allow;
  #ctx: AuditContext;
  #phase = "x224";
  #backendSock: net.Socket | null = null;
  #backend: TlsLeg | null = null;
  #clientTls: TlsLeg | null = null;
  #relay: Relay | null = null;
  #state: MitmState | null = null;
  #shareId = 0;
  #termination: { reason: TerminationReason; detail: string } | null = null;
  /** The protocol selected for the client leg (SSL, HYBRID or HYBRID_EX). */
  #clientProtocol = PROTOCOL_SSL;
  #untrack: (() => void) | null = null;
  /** Set once the connection joined a logical session. */
  sessionId: string | null = null;

  /** The server sent its Demand Active: the desktop is being relayed. */
  get activated(): boolean {
    return this.#state?.activated ?? false;
  }

  constructor(private readonly sock: net.Socket, private readonly p: ProxyContext) {
    this.sourceIp = plainIp(sock.remoteAddress);
    this.#ctx = {
      sourceIp: this.sourceIp,
      sourcePort: sock.remotePort ?? 0,
      localAddress: plainIp(sock.localAddress),
      localPort: sock.localPort ?? 0,
    };
  }

  /** Runs the connection to its end; never rejects. */
  async run(): Promise<void> {
    this.sock.setNoDelay(true);
    this.sock.on("error", () => {}); // reported through the step that was waiting
    try {
      const got = await this.#negotiate();
      if (!got) return;
      await this.#proxy(got);
    } catch (e) {
      this.#failed(e);
    } finally {
      this.#untrack?.();
      this.#destroyAll();
    }
  }

  /** Kill, revoke, expiry, shutdown: tell the client why (Set Error Info), then disconnect both legs. */
  terminate(reason: TerminationReason, detail: string): void {
    if (this.#termination) return;
    this.#termination = { reason, detail };
    this.#applyTermination();
  }

  #applyTermination(): void {
    const { reason } = this.#termination!;
    const relay = this.#relay;
    const state = this.#state;
    if (!relay || !state || state.ioChannelId < 0) {
      this.#destroyAll();
      return;
    }
    const errorInfo = reason === "expired" || reason === "revoked"
      ? ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES
      : ERRINFO_RPC_INITIATED_DISCONNECT;
    const dpum = encodeDisconnectProviderUltimatum(RN_PROVIDER_INITIATED);
    relay.disconnect(
      [encodeSetErrorInfoFrame({ errorInfo, channelId: state.ioChannelId, shareId: this.#shareId }), dpum],
      [dpum],
    );
  }

  async #negotiate(): Promise<Negotiated | null> {
    const t = this.p.timeouts;
    let frame: Uint8Array;
    try {
      frame = await readPlainTpkt(this.sock, t.connectionRequestMs, "X.224 Connection Request");
    } catch (e) {
      // a port scan or health check that sends nothing is not worth an audit row
      if (e instanceof RdpProxyError && e.code !== "protocol") {
        this.p.log.debug("connection closed before a Connection Request", {
          source: this.sourceIp,
          error: e.message,
        });
        return null;
      }
      throw e;
    }
    const cr = parseConnectionRequest(frame);
    // the cookie is the typed user name, which may end in a verification code: never stored with it
    if (cr.cookie !== null) cr.cookie = redactRdpMfaCode(cr.cookie, this.p.mfaSeparator);
    this.cookie = cr.cookie;
    this.#ctx.cookie = cr.cookie;
    this.#ctx.routingToken = cr.routingToken;
    // the target is known from the dialled address before anyone authenticates: its rdp_security
    // decides what the client leg may use
    const snapshot = this.p.snapshots.get();
    const target = snapshot ? routeServer(snapshot, this.#ctx.localAddress, this.#ctx.localPort) : undefined;
    const security = serverSecurity(target);
    // without CredSSP (no appliance key) "any" means TLS, and "nla" refuses everyone: never fail open
    let choice = chooseClientProtocol(
      cr.negReq?.requestedProtocols ?? null,
      !this.p.nla && security === "any" ? "tls" : security,
    );
    if (choice.ok && isNla(choice.protocol) && security === "any" && snapshot && this.p.nla) {
      // "any" keeps TLS clients working; a known caller who cannot pass NLA yet (no password, or one set
      // before NT hashes were kept) is not pushed into a logon that must fail: TLS, as before
      const source = identifySource(snapshot, this.sourceIp);
      const can = source.kind === "user" &&
        await this.p.nla.canAuthenticate(source.user.name).catch(() => true); // the logon will say why
      if (source.kind === "user" && !can) {
        this.p.log.debug("NLA not offered: the source's user has no NT hash yet", { user: source.user.name });
        choice = chooseClientProtocol(cr.negReq?.requestedProtocols ?? null, "tls");
      }
    }
    if (choice.ok && isNla(choice.protocol) && !this.p.nla) {
      choice = {
        ok: false,
        failureCode: HYBRID_REQUIRED_BY_SERVER,
        reason: "nla_required",
        detail: "the server requires NLA, which is off (the appliance key could not be loaded)",
      };
    }
    if (!choice.ok) {
      this.#ctx.serverName = target?.name;
      await this.#refuse(cr, choice.failureCode);
      this.p.audit(accessDenied(this.#ctx, choice.reason, choice.detail, {
        requested_protocols: cr.negReq?.requestedProtocols ?? 0,
      }));
      return null;
    }
    return { cr, frame, protocol: choice.protocol };
  }

  async #proxy({ cr, frame: crFrame, protocol }: Negotiated): Promise<void> {
    const t = this.p.timeouts;
    this.#phase = "decision";
    this.#clientProtocol = protocol;
    this.p.metrics?.connections.inc({ protocol: "rdp" });
    // what can be decided before the client's TLS: everything for TLS clients; for NLA clients a denial
    // that holds for whoever is behind this source (no point asking them for a password)
    const pre = this.#admit(null);
    if (!pre.allowed && (!isNla(protocol) || !pre.needsProof)) return await this.#denyBeforeTls(cr, pre);

    this.#phase = "client_tls";
    await writeAll(
      this.sock,
      encodeConnectionConfirm({
        dstRef: cr.srcRef,
        srcRef: PROXY_X224_REF,
        classOptions: 0,
        negotiation: { type: "response", flags: EXTENDED_CLIENT_DATA_SUPPORTED, selectedProtocol: protocol },
      }),
    );
    const material = this.p.tls; // CredSSP binds to the certificate this very handshake presents
    this.#clientTls = await acceptTls(this.sock, material, t.handshakeStepMs);
    this.#clientTls.stream.on("error", () => {});
    if (this.#termination) return;

    let a = pre;
    let proven: Proven | null = null;
    let plan: LogonPlan | null = null;
    if (isNla(protocol)) {
      this.#phase = "client_nla";
      proven = await this.#authenticateClient(material.cert);
      if (!proven) return;
      this.provenUser = proven.jumpUser;
      // every check but the second factor, which is checked next (a code is not spent on a denial)
      a = this.#admit(proven.jumpUser, proven.namedLogin ?? undefined, true);
      if (a.allowed) {
        const mfa = await this.#secondFactor(a.decision, a.server, proven.mfaCode);
        if (!mfa.ok) a = this.#denied(a, mfa);
      }
      if (a.allowed) {
        plan = await this.#planLogon(a.server, a.decision, proven);
        if (plan.kind === "deny") {
          a = {
            allowed: false,
            reason: plan.reason,
            detail: plan.detail,
            server: a.server,
            userName: proven.jumpUser,
            policyIds: a.decision.policyIds,
          };
        } else if (plan.kind !== "none") {
          // the login list applies to what is injected; re-decisions (expiry, revoke) keep it
          this.login = plan.login;
          a = this.#admit(proven.jumpUser, plan.login, true);
        }
      }
    } else if (a.allowed) {
      // no NLA, no code: refused where the user has a factor (where one is demanded, admit refused)
      const mfa = await this.#secondFactor(a.decision, a.server, null);
      if (!mfa.ok) a = this.#denied(a, mfa);
    }
    if (!a.allowed) return await this.#denyAfterTls(cr, a);
    const server = a.server;
    if (this.p.registry.recentlyKilled(sessionKey(this.sourceIp, a.decision.userId, server.id))) {
      this.p.metrics?.denials.inc({ protocol: "rdp", reason: "session_killed" });
      this.p.audit(
        accessDenied(this.#ctx, "session_killed", "a session of this user to this server was just killed"),
      );
      return await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
    }
    this.decision = a.decision;
    this.serverId = server.id;
    this.p.audit(accessGranted(this.#ctx, a.decision.policyId, a.decision.validUntil));

    this.#phase = "backend";
    const backendLogon = plan && (plan.kind === "vault" || plan.kind === "passthrough") ? plan.logon : null;
    const where = `${server.address}:${server.rdpPort}`;
    let backend: Backend;
    try {
      backend = await openBackend(
        server,
        crFrame,
        backendRequestedProtocols(backendLogon !== null && this.p.nla !== undefined),
        t,
        (sock) => (this.#backendSock = sock),
      );
      this.#backend = backend.leg;
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
      this.p.audit(backendFailed(this.#ctx, where, message, reason));
      this.p.log.warn("RDP backend failed", { server: server.name, error: (e as Error).message });
      return await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
    }
    const cert = await verifyBackendCert(this.p.certPins, server.id, backend.leg.stream);
    if (!cert.ok) {
      this.p.audit(certRefused(this.#ctx, where, cert.sha256, cert.detail));
      this.p.log.warn("RDP backend certificate refused", { server: server.name, sha256: cert.sha256 });
      return await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
    }
    if (plan?.kind === "vault") {
      this.p.audit(
        credentialUsed(this.#ctx, plan.login, isNla(backend.selectedProtocol) ? "nla" : "client_info"),
      );
    }
    if (isNla(backend.selectedProtocol)) {
      this.#phase = "backend_nla";
      try {
        await this.#authenticateBackend(backend, backendLogon!);
      } catch (e) {
        this.p.audit(backendFailed(this.#ctx, where, (e as Error).message, "nla_failed"));
        this.p.log.warn("RDP backend NLA failed", { server: server.name, error: (e as Error).message });
        return await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
      }
    }
    if (protocol === PROTOCOL_HYBRID_EX) {
      await writeMessage(this.#clientTls.stream, encodeEarlyUserAuthResult(true));
    }
    if (this.#termination) return;

    this.#phase = "session";
    const { session, index } = await this.p.registry.join({
      sourceIp: this.sourceIp,
      proxyIp: this.#ctx.localAddress || null,
      server,
      decision: a.decision,
      ctx: this.#ctx,
    }, this);
    this.#ctx.sessionId = session.sessionId;
    this.sessionId = session.sessionId;
    this.#untrack = this.p.track(this);
    await this.#relayAndRecord(cr, server, session, index, {
      serverSelectedProtocol: backend.selectedProtocol,
      logon: clientInfoLogon(proven?.logon ?? null, backendLogon, backend.selectedProtocol),
    });
  }

  /** Policy decision with what is known: the NLA-proven jump user and login, or the source alone. */
  #admit(
    provenUser: string | null,
    login?: string,
    secondFactor = false,
  ): Admission & { needsProof?: boolean } {
    const now = new Date(this.p.clock.now());
    const a = timedDecision(this.p.metrics, "rdp", () =>
      admit(this.p.snapshots.get(), {
        sourceIp: this.sourceIp,
        localAddress: this.#ctx.localAddress,
        localPort: this.#ctx.localPort,
        cookie: this.cookie,
        provenUser,
        login,
        secondFactor,
      }, now));
    this.#ctx.userName = a.allowed ? a.decision.userName : a.userName;
    this.#ctx.serverName = a.server?.name;
    // every other denial may not hold for the user NLA will prove (their own CIDR may contain this source)
    const needsProof = !a.allowed && provenUser === null && !DECIDED_BEFORE_PROOF.has(a.reason);
    return { ...a, needsProof };
  }

  #denied(a: Extract<Admission, { allowed: true }>, why: { reason: string; detail: string }): Admission {
    return {
      allowed: false,
      reason: why.reason,
      detail: why.detail,
      server: a.server,
      userName: a.decision.userName,
      policyIds: a.decision.policyIds,
    };
  }

  /**
   * The second factor, as SSH asks for it: required where the user has a factor (pending or active) or the
   * decision demands one. The code comes after the NLA user name (alice#123456); it is checked once the
   * password is proven and the policy allows, before any backend is contacted. Audited either way.
   */
  async #secondFactor(d: Allow, server: Server, code: string | null): Promise<SecondFactorCheck> {
    const owner = { kind: "user" as const, id: d.userId, name: d.userName };
    const example = `${d.userName}${this.p.mfaSeparator}123456`;
    let has: boolean;
    try {
      if (!this.p.mfa) throw new Error("second factors are not available to this proxy");
      has = await this.p.mfa.has(owner);
    } catch (e) {
      this.p.log.error("cannot look up the user's second factor", { user: d.userName, error: String(e) });
      return { ok: false, reason: "mfa_unavailable", detail: `second factor lookup failed: ${String(e)}` };
    }
    if (!has) {
      if (d.requireMfa) {
        return {
          ok: false,
          reason: "mfa_not_enrolled",
          detail:
            `a second factor is required for ${d.userName} on ${server.name} and they have none enrolled`,
        };
      }
      if (code === null) return { ok: true };
      return {
        ok: false,
        reason: "mfa_not_enrolled",
        detail: `a verification code was given after the user name, but ${d.userName} has no factor enrolled`,
      };
    }
    if (code === null) {
      return {
        ok: false,
        reason: "mfa_required",
        detail: isNla(this.#clientProtocol)
          ? `${d.userName} has a second factor: type the code after the user name (${example})`
          : `${d.userName} has a second factor, which RDP without NLA cannot carry (connect with NLA as ${example})`,
      };
    }
    const r = await this.p.mfa!.verify(owner, code, new Date(this.p.clock.now()));
    if (!r.ok) {
      this.p.audit(mfaFailed(this.#ctx, r.reason));
      return {
        ok: false,
        reason: r.reason === "unreadable" ? "mfa_unavailable" : `mfa_${r.reason}`,
        detail: r.reason === "unreadable"
          ? "the TOTP secret cannot be opened (appliance key)"
          : `verification code refused: ${r.reason}`,
      };
    }
    this.p.audit(mfaOk(this.#ctx, r.method, r.confirmedNow));
    return { ok: true };
  }

  /** The vault (or passthrough, where allowed) decides what the backend gets; the vault read fails closed. */
  async #planLogon(server: Server, decision: Allow, proven: Proven): Promise<LogonPlan> {
    let vault: VaultEntry[] = [];
    if (this.p.vault) {
      const r = await this.p.vault.credentialsFor(server.id);
      if (!r.ok) {
        this.p.log.error("cannot read the server's credential vault", {
          server: server.name,
          error: r.detail,
        });
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

  /** CredSSP with the client; null when it failed (the client was told, the failure audited). */
  async #authenticateClient(certificatePem: string): Promise<Proven | null> {
    const nla = this.p.nla;
    if (!nla) throw new RdpProxyError("protocol", "NLA selected without a CredSSP implementation");
    const r = await nla.acceptClient(this.#clientTls!.stream, {
      sourceIp: this.sourceIp,
      certificatePem,
      timeoutMs: this.p.timeouts.nlaMs,
    });
    if (!r.ok) {
      if (r.userName) this.#ctx.userName = r.userName;
      this.p.metrics?.denials.inc({ protocol: "rdp", reason: r.reason });
      this.p.audit(nlaFailed(this.#ctx, r.action, r.reason, r.detail));
      return null;
    }
    // the NTLM proof covered these names (the code included); the credential parser already accepted them
    const name = parseRdpUserName(r.logon.domain, r.logon.user, this.p.mfaSeparator);
    this.#ctx.userName = name.jumpUser;
    return {
      jumpUser: name.jumpUser,
      namedLogin: name.backendLoginText,
      logon: { ...r.logon, user: name.user },
      mfaCode: name.mfaCode,
    };
  }

  async #authenticateBackend(backend: Backend, logon: Logon): Promise<void> {
    const nla = this.p.nla!;
    const t = this.p.timeouts.handshakeStepMs;
    await nla.authenticateBackend(backend.leg.stream, logon, { timeoutMs: t });
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

  async #denyBeforeTls(cr: ConnectionRequest, a: Extract<Admission, { allowed: false }>): Promise<void> {
    this.p.metrics?.denials.inc({ protocol: "rdp", reason: a.reason });
    this.p.audit(accessDenied(this.#ctx, a.reason, a.detail, { policy_ids: a.policyIds }));
    await this.#deny(cr);
  }

  async #denyAfterTls(cr: ConnectionRequest, a: Extract<Admission, { allowed: false }>): Promise<void> {
    this.p.metrics?.denials.inc({ protocol: "rdp", reason: a.reason });
    this.p.audit(accessDenied(this.#ctx, a.reason, a.detail, { policy_ids: a.policyIds }));
    await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
  }

  /**
   * Refuse on the client's established TLS leg: HYBRID_EX clients get the Early User Authorization
   * Result, the others the Set Error Info after their Client Info (see refusal.ts).
   */
  async #refuseAfterTls(cr: ConnectionRequest, authz: number, errorInfo: number): Promise<void> {
    this.#phase = "refusal";
    const stream = this.#clientTls!.stream;
    const t = this.p.timeouts.handshakeStepMs;
    try {
      if (this.#clientProtocol === PROTOCOL_HYBRID_EX) {
        await writeMessage(stream, encodeEarlyUserAuthResult(authz === AUTHZ_SUCCESS));
        stream.end();
        return;
      }
      await refuseInsideTls(stream, cr.negReq?.requestedProtocols ?? PROTOCOL_SSL, errorInfo, t);
    } catch (e) {
      this.p.log.debug("refused client left before the refusal", { error: (e as Error).message });
    }
  }

  async #relayAndRecord(
    cr: ConnectionRequest,
    server: Server,
    session: LogicalSession,
    index: number,
    legs: LegRewrites,
  ) {
    const startedAt = new Date();
    const day = startedAt.toISOString().slice(0, 10);
    const enc = this.p.recordingEncryption ?? null;
    const base = join(this.p.recordingsDir, "rdp", day, `${session.sessionId}-${index}.rdprec`);
    const path = storedRecordingPath(base, enc); // + ".age" when encrypted
    let recordingRow: number | null = null;
    let end: ConnectionOutcome = { reason: "normal", detail: null, final: false };
    const recording = new RecordingTap(
      base,
      (msg) => {
        // by default no unrecorded sessions: a recording that cannot be written ends the connection (fail
        // closed); with on_recording_failure = continue the connection goes on unrecorded. Either way: said.
        const disconnect = (this.p.onRecordingFailure ?? "disconnect") === "disconnect";
        this.p.log.error(
          disconnect
            ? "RDP recording failed; ending the connection"
            : "RDP recording failed; going on unrecorded",
          { session: session.sessionId, error: msg, path },
        );
        this.p.audit({
          actor: this.decision.userName,
          action: "recording.failed",
          target: server.name,
          sourceIp: this.sourceIp,
          success: false,
          details: {
            protocol: "rdp",
            session: session.sessionId,
            path,
            error: msg,
            on_recording_failure: disconnect ? "disconnect" : "continue",
          },
        });
        if (disconnect) this.terminate("error", msg);
      },
      undefined,
      enc,
    );
    const tap = new ConnectionTap(
      {
        sessionId: session.sessionId,
        connection: index,
        source: { address: this.sourceIp, port: this.#ctx.sourcePort },
        target: { host: server.address, port: server.rdpPort },
        extra: { server: server.name, user: this.decision.userName, cookie: cr.cookie },
      },
      recording,
      (e) => {
        session.summary.add(e);
        session.dirty = true;
      },
      (msg, fields) => this.p.log.warn(msg, { session: session.sessionId, ...fields }),
    );
    try {
      recordingRow = await this.p.registry.addRecording(session, index, path);
      this.#phase = "relay";
      const state = new MitmState(cr.negReq!.requestedProtocols, (e) => {
        if (e.kind === "demand_active") this.#shareId = e.summary.shareId;
        tap.handle(e);
      }, { ...legs, clientInfoGate: (info) => this.#gateLogin(info) });
      this.#state = state;
      const relay = new Relay(relayLeg(this.#clientTls!), relayLeg(this.#backend!), state, {
        graceMs: this.p.timeouts.closeGraceMs,
        recording: {
          behind: () => recording.pendingBytes > RECORDING_HIGH_WATER,
          caughtUp: () => recording.drained(RECORDING_HIGH_WATER / 2),
        },
      });
      this.#relay = relay;
      if (this.#termination) this.#applyTermination();
      const flush = setInterval(() => tap.keys.flush(), 2000);
      const r = await relay.done.finally(() => clearInterval(flush));
      tap.keys.flush();
      session.info = {
        ...session.info,
        ...tap.sessionInfo(),
        cookie: cr.cookie,
        routing_token: cr.routingToken,
      };
      if (r.reason === "refused" && r.error instanceof FrameRefused) {
        this.p.metrics?.denials.inc({ protocol: "rdp", reason: r.error.reason });
        this.p.audit(accessDenied(this.#ctx, r.error.reason, r.error.detail, {
          login: this.login,
          phase: "client_info",
          policy_ids: this.decision.policyIds,
        }));
      }
      if (r.reason === "protocol_error" && !this.#termination) {
        const code = r.error instanceof RdpParseError ? r.error.code : undefined;
        this.p.audit(protocolError(this.#ctx, "relay", r.side, { code, message: r.error!.message }));
      }
      end = connectionOutcome(r, this.#termination, tap.stats.endedBy);
    } catch (e) {
      end = { reason: "error", detail: (e as Error).message, final: false };
      throw e;
    } finally {
      // let final PDUs (Set Error Info, disconnect) reach the peers before the sockets go away
      if (this.#relay) await this.#relay.closed;
      this.#destroyAll();
      const stats = await recording.close();
      const endedAt = new Date();
      if (recordingRow !== null) {
        const written = stats !== null; // null: the file was never created
        await this.p.registry.finishRecording(
          session,
          recordingRow,
          stats?.bytesWritten ?? 0,
          endedAt,
          written,
        )
          .catch((e) => this.p.log.error("cannot finish RDP recording row", { error: (e as Error).message }));
      }
      await this.p.registry.connectionEnded(session, this, { ...end, endedAt });
    }
  }

  /**
   * The Client Info PDU names the Windows login (TLS sessions; with NLA it was checked at admission): a
   * login outside the grant ends the connection before the backend sees the PDU, which carries the
   * credentials. The backend's TCP/TLS/MCS connection is already open at this point (the proxy mirrors
   * the backend's answers to the client), but it never receives a user name or password.
   */
  #gateLogin(info: { domain: string; userName: string }): void {
    if (this.login !== null) return; // fixed by NLA before the backend was contacted
    const g = gateClientInfoLogin(
      this.p.snapshots.get(),
      {
        sourceIp: this.sourceIp,
        serverId: this.serverId,
        provenUser: this.provenUser,
        userId: this.decision.userId,
        decision: this.decision,
      },
      info,
      new Date(this.p.clock.now()),
    );
    this.login = g.login;
    if (g.ok) {
      this.decision = g.decision;
      return;
    }
    const channelId = this.#state?.ioChannelId ?? -1;
    const dpum = encodeDisconnectProviderUltimatum(RN_PROVIDER_INITIATED);
    const toClient = channelId >= 0
      ? [
        encodeSetErrorInfoFrame({ errorInfo: ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES, channelId, shareId: 0 }),
        dpum,
      ]
      : [dpum];
    throw new FrameRefused(g.reason, g.detail, toClient, [dpum]);
  }

  #destroyAll(): void {
    this.sock.destroy();
    this.#clientTls?.stream.destroy();
    this.#backend?.stream.destroy();
    this.#backendSock?.destroy();
  }

  /** Policy says no: tell the client in a way it shows as a denial (see refusal.ts). */
  async #deny(cr: ConnectionRequest): Promise<void> {
    this.#phase = "refusal";
    const t = this.p.timeouts.handshakeStepMs;
    await refuseWithErrorInfo(this.sock, cr, this.p.tls, ERRINFO_SERVER_DENIED_CONNECTION, t).catch((e) => {
      this.p.log.debug("denied client left before the refusal", { error: (e as Error).message });
    });
  }

  #refuse(cr: ConnectionRequest, failureCode: number): Promise<void> {
    return refuseNegotiation(this.sock, cr, failureCode);
  }

  #failed(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = e instanceof RdpParseError || e instanceof RdpProxyError ? e.code : undefined;
    if (e instanceof RdpParseError || (e instanceof RdpProxyError && e.code === "protocol")) {
      this.p.audit(protocolError(this.#ctx, this.#phase, "client", { code, message: err.message }));
    } else if (!(e instanceof RdpProxyError)) {
      this.p.log.error("RDP connection failed", { phase: this.#phase, error: err.message, stack: err.stack });
    } else {
      this.p.log.info("RDP connection ended during setup", { phase: this.#phase, error: err.message });
    }
  }
}
