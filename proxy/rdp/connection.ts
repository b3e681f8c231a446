// One accepted TCP connection, start to end: X.224 Connection Request → the client leg's protocol from
// the target server's rdp_security → our own Connection Confirm → client TLS → (NLA: CredSSP, the user
// proven) → policy decision → backend X.224 + TLS (+ CredSSP with a credential) → session row → relay
// through the MITM state machine with recording → close. No backend is contacted before the decision.
// Any failure ends this connection only, with an audit row saying why.
import type net from "node:net";
import type { TerminationReason } from "../../db/sessions.ts";
import { type Allow, redactRdpMfaCode, type Server } from "../../policy/mod.ts";
import {
  type ConnectionRequest,
  encodeConnectionConfirm,
  encodeDisconnectProviderUltimatum,
  encodeSetErrorInfoFrame,
  ERRINFO_RPC_INITIATED_DISCONNECT,
  ERRINFO_SERVER_DENIED_CONNECTION,
  ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES,
  parseConnectionRequest,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
  RdpParseError,
  RN_PROVIDER_INITIATED,
} from "./pdu/mod.ts";
import { acceptTls, readPlainTpkt, relayLeg, type TlsLeg, writeAll } from "./handshake.ts";
import { type ConnectionOutcome, connectionOutcome } from "./connection_end.ts";
import { type Admission, admit, plainIp } from "./admission.ts";
import { timedDecision } from "../worker_metrics.ts";
import { accessDenied, accessGranted, type AuditContext, protocolError } from "./audit.ts";
import { FrameRefused, RdpProxyError } from "./errors.ts";
import { gateClientInfoLogin } from "./login_gate.ts";
import { type LegRewrites, MitmState } from "./mitm_state.ts";
import { openConnectionRecording } from "./connection_recording.ts";
import { Relay } from "./relay.ts";
import { refuseInsideTls, refuseNegotiation, refuseWithErrorInfo } from "./refusal.ts";
import { type LiveConnection, type LogicalSession, sessionKey } from "./session_registry.ts";
import type { ProxyContext } from "./proxy_context.ts";
import { isNla } from "./negotiation.ts";
import { injectedLogon, setUpBackend } from "./backend_setup.ts";
import { chooseClientLeg } from "./client_leg.ts";
import { AUTHZ_ACCESS_DENIED, AUTHZ_SUCCESS, encodeEarlyUserAuthResult } from "./nla/early_auth.ts";
import type { LogonPlan } from "./backend_logon.ts";
import { writeMessage } from "./nla_io.ts";
import { checkSecondFactor } from "./second_factor.ts";
import { authenticateClient, clientInfoLogon, planLogon, type Proven } from "./nla_logon.ts";

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
    const { choice, target } = await chooseClientLeg(
      this.p,
      cr.negReq?.requestedProtocols ?? null,
      this.sourceIp,
      this.#ctx,
    );
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
      proven = await authenticateClient(
        this.p,
        this.#ctx,
        this.#clientTls.stream,
        this.sourceIp,
        material.cert,
      );
      if (!proven) return;
      this.provenUser = proven.jumpUser;
      // every check but the second factor, which is checked next (a code is not spent on a denial)
      a = this.#admit(proven.jumpUser, proven.namedLogin ?? undefined, true);
      if (a.allowed) {
        const mfa = await checkSecondFactor(this.p, this.#ctx, a.decision, a.server, proven.mfaCode, true);
        if (!mfa.ok) a = this.#denied(a, mfa);
      }
      if (a.allowed) {
        plan = await planLogon(this.p, a.server, a.decision, proven);
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
      const mfa = await checkSecondFactor(this.p, this.#ctx, a.decision, a.server, null, false);
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
    const backend = await setUpBackend(this.p, this.#ctx, {
      server,
      crFrame,
      plan,
      onSocket: (sock) => (this.#backendSock = sock),
      onLeg: (leg) => (this.#backend = leg),
      onPhase: (phase) => (this.#phase = phase),
    });
    if (!backend) {
      return await this.#refuseAfterTls(cr, AUTHZ_ACCESS_DENIED, ERRINFO_SERVER_DENIED_CONNECTION);
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
      logon: clientInfoLogon(proven?.logon ?? null, injectedLogon(plan), backend.selectedProtocol),
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
    const { recording, tap } = openConnectionRecording(this.p, {
      session,
      index,
      server,
      userName: () => this.decision.userName,
      source: { address: this.sourceIp, port: this.#ctx.sourcePort },
      cookie: cr.cookie,
      startedAt: new Date(),
      terminate: (reason, detail) => this.terminate(reason, detail),
    });
    let recordingRow: number | null = null;
    let end: ConnectionOutcome = { reason: "normal", detail: null, final: false };
    try {
      recordingRow = await this.p.registry.addRecording(session, index, recording.path);
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
