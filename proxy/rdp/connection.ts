// One accepted TCP connection, start to end: X.224 Connection Request → routing and policy decision →
// backend X.224 + TLS → client TLS → session row → relay through the MITM state machine with recording
// → close. Any failure ends this connection only, with an audit row saying why.
import type net from "node:net";
import { join } from "node:path";
import type { TerminationReason } from "../../db/sessions.ts";
import type { Allow, Server } from "../../policy/mod.ts";
import {
  type ConnectionRequest,
  encodeConnectionConfirm,
  encodeDisconnectProviderUltimatum,
  encodeSetErrorInfoFrame,
  ERRINFO_RPC_INITIATED_DISCONNECT,
  ERRINFO_SERVER_DENIED_CONNECTION,
  ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES,
  parseConnectionRequest,
  PROTOCOL_SSL,
  RdpParseError,
  RN_PROVIDER_INITIATED,
  SSL_CERT_NOT_ON_SERVER,
  SSL_REQUIRED_BY_SERVER,
} from "./pdu/mod.ts";
import { acceptTls, readPlainTpkt, relayLeg, type TlsLeg, writeAll } from "./handshake.ts";
import { BackendError, openBackend } from "./backend.ts";
import { verifyBackendCert } from "./backend_cert.ts";
import { type ConnectionOutcome, connectionOutcome } from "./connection_end.ts";
import { admit, plainIp } from "./admission.ts";
import { timedDecision } from "../worker_metrics.ts";
import {
  accessDenied,
  accessGranted,
  type AuditContext,
  backendFailed,
  certRefused,
  protocolError,
} from "./audit.ts";
import { FrameRefused, RdpProxyError } from "./errors.ts";
import { gateClientInfoLogin } from "./login_gate.ts";
import { MitmState } from "./mitm_state.ts";
import { ConnectionTap } from "./connection_tap.ts";
import { RecordingTap } from "./recording_tap.ts";
import { Relay } from "./relay.ts";
import { refuseNegotiation, refuseWithErrorInfo } from "./refusal.ts";
import { type LiveConnection, type LogicalSession, sessionKey } from "./session_registry.ts";
import type { ProxyContext } from "./proxy_context.ts";

/** Above this many bytes waiting for the disk, the relay stops reading until the recording caught up. */
const RECORDING_HIGH_WATER = 2 * 1024 * 1024;

/** RDP_NEG_RSP flag worth passing on: the client may send extended client data blocks. */
const EXTENDED_CLIENT_DATA_SUPPORTED = 0x01;

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
      await this.#proxy(got.cr, got.frame);
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

  async #negotiate(): Promise<{ cr: ConnectionRequest; frame: Uint8Array } | null> {
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
    this.cookie = cr.cookie;
    this.#ctx.cookie = cr.cookie;
    this.#ctx.routingToken = cr.routingToken;
    if (!cr.negReq || (cr.negReq.requestedProtocols & PROTOCOL_SSL) === 0) {
      await this.#refuse(cr, SSL_REQUIRED_BY_SERVER);
      this.p.audit(accessDenied(this.#ctx, "tls_required", "client offered only standard RDP security", {
        requested_protocols: cr.negReq?.requestedProtocols ?? 0,
      }));
      return null;
    }
    return { cr, frame };
  }

  async #proxy(cr: ConnectionRequest, crFrame: Uint8Array): Promise<void> {
    const t = this.p.timeouts;
    this.#phase = "decision";
    const now = new Date(this.p.clock.now());
    this.p.metrics?.connections.inc({ protocol: "rdp" });
    const a = timedDecision(this.p.metrics, "rdp", () =>
      admit(this.p.snapshots.get(), {
        sourceIp: this.sourceIp,
        localAddress: this.#ctx.localAddress,
        localPort: this.#ctx.localPort,
        cookie: cr.cookie,
        provenUser: this.provenUser,
        login: this.login ?? undefined,
      }, now));
    this.#ctx.userName = a.allowed ? a.decision.userName : a.userName;
    this.#ctx.serverName = a.server?.name;
    if (!a.allowed) {
      this.p.metrics?.denials.inc({ protocol: "rdp", reason: a.reason });
      this.p.audit(accessDenied(this.#ctx, a.reason, a.detail, { policy_ids: a.policyIds }));
      await this.#deny(cr);
      return;
    }
    const server = a.server;
    if (this.p.registry.recentlyKilled(sessionKey(this.sourceIp, a.decision.userId, server.id))) {
      this.p.metrics?.denials.inc({ protocol: "rdp", reason: "session_killed" });
      this.p.audit(
        accessDenied(this.#ctx, "session_killed", "a session of this user to this server was just killed"),
      );
      await this.#deny(cr);
      return;
    }
    this.decision = a.decision;
    this.serverId = server.id;
    this.p.audit(accessGranted(this.#ctx, a.decision.policyId, a.decision.validUntil));

    this.#phase = "backend";
    let backend;
    try {
      backend = await openBackend(server, crFrame, t, (sock) => (this.#backendSock = sock));
      this.#backend = backend.leg;
    } catch (e) {
      // a failure the client understands, so it does not retry with other protocols
      await this.#refuse(cr, e instanceof BackendError ? e.refusal : SSL_CERT_NOT_ON_SERVER);
      this.p.audit(backendFailed(this.#ctx, `${server.address}:${server.rdpPort}`, (e as Error).message));
      this.p.log.warn("RDP backend failed", { server: server.name, error: (e as Error).message });
      return;
    }
    const cert = await verifyBackendCert(this.p.certPins, server.id, backend.leg.stream);
    if (!cert.ok) {
      this.p.audit(certRefused(this.#ctx, `${server.address}:${server.rdpPort}`, cert.sha256, cert.detail));
      this.p.log.warn("RDP backend certificate refused", { server: server.name, sha256: cert.sha256 });
      await this.#deny(cr);
      return;
    }

    this.#phase = "client_tls";
    const cc = backend.confirm;
    await writeAll(
      this.sock,
      encodeConnectionConfirm({
        dstRef: cc.dstRef,
        srcRef: cc.srcRef,
        classOptions: cc.classOptions,
        negotiation: {
          type: "response",
          flags: backend.flags & EXTENDED_CLIENT_DATA_SUPPORTED,
          selectedProtocol: PROTOCOL_SSL,
        },
      }),
    );
    this.#clientTls = await acceptTls(this.sock, this.p.tls, t.handshakeStepMs);
    this.#clientTls.stream.on("error", () => {});
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
    await this.#relayAndRecord(cr, server, session, index);
  }

  async #relayAndRecord(cr: ConnectionRequest, server: Server, session: LogicalSession, index: number) {
    const startedAt = new Date();
    const day = startedAt.toISOString().slice(0, 10);
    const path = join(this.p.recordingsDir, "rdp", day, `${session.sessionId}-${index}.rdprec`);
    let recordingRow: number | null = null;
    let end: ConnectionOutcome = { reason: "normal", detail: null, final: false };
    const recording = new RecordingTap(path, (msg) => {
      // no unrecorded sessions: a recording that cannot be written ends the connection (fail closed)
      this.p.log.error("RDP recording failed; ending the connection", {
        session: session.sessionId,
        error: msg,
      });
      this.terminate("error", msg);
    });
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
      }, (info) => this.#gateLogin(info));
      this.#state = state;
      const relay = new Relay(relayLeg(this.#clientTls!), relayLeg(this.#backend!), state, {
        graceMs: this.p.timeouts.closeGraceMs,
        throttled: () => recording.pendingBytes > RECORDING_HIGH_WATER,
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
        await this.p.registry.finishRecording(session, recordingRow, stats?.bytesWritten ?? 0, endedAt)
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
