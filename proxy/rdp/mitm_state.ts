// The decrypted-stream state machine of one proxied RDP connection (pure: no sockets, no clock).
//
// Each whole frame (from PduStream) goes through clientFrame()/serverFrame(), which returns the bytes to
// forward (rewritten where the downgrade needs it) and reports what it saw through `emit`. Every rewrite
// and parse is done by proxy/rdp/pdu; a malformed PDU throws RdpParseError and the caller closes this
// connection. What is rewritten and why: shared/notes/rdp-mitm.md section 2.
import {
  CHANNEL_FLAG_FIRST,
  type ChannelDef,
  type ClientCoreData,
  type ClientInfo,
  type ClientInfoLogon,
  CS_CORE,
  ensure,
  type Frame,
  type McsDomainPdu,
  PACKET_COMPRESSED,
  parseChannelPdu,
  parseClientInfo,
  parseFastPathInput,
  parseMcsConnectInitial,
  parseMcsConnectResponse,
  parseMcsFrame,
  parseSecurityHeader,
  parseShareControlPdus,
  parseShareDataHeader,
  parseSlowPathInputData,
  PDUTYPE2_INPUT,
  PDUTYPE_CONFIRMACTIVEPDU,
  PDUTYPE_DATAPDU,
  PDUTYPE_DEACTIVATEALLPDU,
  PDUTYPE_DEMANDACTIVEPDU,
  PDUTYPE_SERVER_REDIR_PKT,
  RdpParseError,
  rewriteClientInfoFrame,
  rewriteConfirmActiveFrame,
  rewriteConnectInitial,
  rewriteConnectResponse,
  SC_CORE,
  SEC_INFO_PKT,
  SEC_REDIRECTION_PKT,
  summarizeDemandActive,
  TS_PROTOCOL_VERSION,
  X224_DR,
  X224_DT,
  x224Type,
} from "./pdu/mod.ts";
import { GFX_CHANNEL_NAME, parseDvcCreateRequest } from "./pdu/drdynvc_create.ts";
import { ChannelAudit } from "./channel_audit.ts";
import { AUDITED_CHANNELS, type MitmEvent, type Side } from "./mitm_events.ts";
import { fastPathOutput, serverDataPdu } from "./server_updates.ts";

export { AUDITED_CHANNELS, type MitmEvent, type Side } from "./mitm_events.ts";

type SendData = Extract<McsDomainPdu, { type: "sendDataRequest" | "sendDataIndication" }>;

/** What differs between the two legs, so the backend sees its own leg's values. */
export interface LegRewrites {
  /** The protocol the backend selected (CS_CORE.serverSelectedProtocol must match it). */
  serverSelectedProtocol?: number;
  /** Credentials the backend gets in the Client Info instead of the client's. */
  logon?: ClientInfoLogon;
  /**
   * Sees the Client Info PDU before it is forwarded (it carries the Windows user name, domain and maybe
   * a password): throwing FrameRefused keeps it from the server.
   */
  clientInfoGate?: (info: ClientInfo) => void;
}

const DEMAND_ACTIVE_TYPE = (TS_PROTOCOL_VERSION << 4) | PDUTYPE_DEMANDACTIVEPDU;

export class MitmState {
  #clientPhase: "connect_initial" | "mcs" = "connect_initial";
  #serverPhase: "connect_response" | "mcs" = "connect_response";
  #clientCore: ClientCoreData | null = null;
  #clientChannels: ChannelDef[] = [];
  #ioChannel = -1;
  #messageChannel = -1;
  #channelNames = new Map<number, string>();
  #clientInfoSeen = false;
  /** A Demand Active was seen: I/O channel traffic is share-control PDUs from now on. */
  #activated = false;
  #audit = new ChannelAudit();

  constructor(
    /** requestedProtocols of the client's X.224 Connection Request (restored in SC_CORE). */
    readonly clientRequestedProtocols: number,
    private readonly emit: (e: MitmEvent) => void,
    private readonly legs: LegRewrites = {},
  ) {}

  get ioChannelId(): number {
    return this.#ioChannel;
  }
  get activated(): boolean {
    return this.#activated;
  }
  get clientCore(): ClientCoreData | null {
    return this.#clientCore;
  }

  /** A whole client→server frame in; the bytes to send to the server out. */
  clientFrame(f: Frame): Uint8Array {
    if (f.kind === "fastpath") {
      ensure(this.#activated, "invalid", "fast-path input before activation");
      const pdu = parseFastPathInput(f.bytes);
      this.emit({ kind: "input", format: "fastpath", bytes: f.bytes, events: pdu.events });
      return f.bytes;
    }
    const type = x224Type(f.bytes);
    if (type === X224_DR) {
      this.emit({ kind: "disconnect", by: "client", how: "x224" });
      return f.bytes;
    }
    ensure(type === X224_DT, "invalid", `client sent X.224 TPDU 0x${type.toString(16)} after the handshake`);
    if (this.#clientPhase === "connect_initial") return this.#connectInitial(f.bytes);
    const pdu = parseMcsFrame(f.bytes);
    if (pdu.type === "disconnectProviderUltimatum") {
      this.emit({ kind: "disconnect", by: "client", how: "mcs" });
    }
    if (pdu.type !== "sendDataRequest") {
      ensure(pdu.type !== "sendDataIndication", "invalid", "client sent an MCS Send Data Indication");
      return f.bytes;
    }
    return this.#clientSendData(f.bytes, pdu);
  }

  /** A whole server→client frame in; the bytes to send to the client out. */
  serverFrame(f: Frame): Uint8Array {
    if (f.kind === "fastpath") {
      ensure(this.#activated, "invalid", "fast-path output before activation");
      fastPathOutput(f.bytes, this.emit);
      return f.bytes;
    }
    const type = x224Type(f.bytes);
    if (type === X224_DR) {
      this.emit({ kind: "disconnect", by: "server", how: "x224" });
      return f.bytes;
    }
    ensure(type === X224_DT, "invalid", `server sent X.224 TPDU 0x${type.toString(16)} after the handshake`);
    if (this.#serverPhase === "connect_response") return this.#connectResponse(f.bytes);
    const pdu = parseMcsFrame(f.bytes);
    if (pdu.type === "disconnectProviderUltimatum") {
      this.emit({ kind: "disconnect", by: "server", how: "mcs" });
    }
    if (pdu.type !== "sendDataIndication") {
      ensure(pdu.type !== "sendDataRequest", "invalid", "server sent an MCS Send Data Request");
      return f.bytes;
    }
    return this.#serverSendData(f.bytes, pdu);
  }

  #connectInitial(frame: Uint8Array): Uint8Array {
    const original = parseMcsConnectInitial(frame);
    const out = rewriteConnectInitial(frame, this.legs.serverSelectedProtocol);
    const forwarded = parseMcsConnectInitial(out);
    this.#clientCore = original.client.core;
    this.#clientChannels = original.client.channels;
    this.#clientPhase = "mcs";
    this.emit({
      kind: "connect_initial",
      client: original.client,
      forwardedCore: forwarded.blocks.find((b) => b.type === CS_CORE)!.data,
    });
    return out;
  }

  #connectResponse(frame: Uint8Array): Uint8Array {
    ensure(this.#clientPhase === "mcs", "invalid", "MCS Connect Response before the Connect Initial");
    const out = rewriteConnectResponse(frame, this.clientRequestedProtocols);
    const cr = parseMcsConnectResponse(out);
    ensure(cr.result === 0, "invalid", `server refused the MCS connection (result ${cr.result})`);
    const net = cr.server.network!;
    ensure(
      net.channelIds.length === this.#clientChannels.length,
      "invalid",
      `server assigned ${net.channelIds.length} channel ids for ${this.#clientChannels.length} channels`,
    );
    const channels = net.channelIds.map((id, i) => ({ id, name: this.#clientChannels[i].name }));
    for (const c of channels) this.#channelNames.set(c.id, c.name);
    this.#ioChannel = net.ioChannelId;
    this.#messageChannel = cr.server.messageChannelId ?? -1;
    this.#serverPhase = "mcs";
    this.emit({
      kind: "connect_response",
      server: cr.server,
      forwardedCore: cr.blocks.find((b) => b.type === SC_CORE)!.data,
      channels,
      ioChannelId: net.ioChannelId,
    });
    return out;
  }

  #clientSendData(frame: Uint8Array, pdu: SendData): Uint8Array {
    const { channelId, userData } = pdu;
    if (channelId === this.#ioChannel) {
      if (!this.#clientInfoSeen) {
        const sec = parseSecurityHeader(userData);
        ensure(
          (sec.flags & SEC_INFO_PKT) !== 0,
          "invalid",
          "first I/O channel PDU is not the Client Info PDU",
        );
        const info = parseClientInfo(userData);
        this.legs.clientInfoGate?.(info);
        const out = rewriteClientInfoFrame(frame, this.legs.logon);
        this.#clientInfoSeen = true;
        // with injected credentials the session is the backend's logon, not what the client typed
        const fwd = this.legs.logon ? parseMcsFrame(out) : null;
        this.emit({
          kind: "client_info",
          info: fwd?.type === "sendDataRequest" ? parseClientInfo(fwd.userData) : info,
        });
        return out;
      }
      if (!this.#activated) {
        parseSecurityHeader(userData); // licensing: opaque, but never encrypted
        return frame;
      }
      const pdus = parseShareControlPdus(userData);
      if (pdus.some((p) => !p.isFlow && p.pduType === PDUTYPE_CONFIRMACTIVEPDU)) {
        ensure(pdus.length === 1, "invalid", "Confirm Active shares its MCS PDU with other PDUs");
        const out = rewriteConfirmActiveFrame(frame);
        this.emit({ kind: "confirm_active" });
        return out;
      }
      for (const p of pdus) {
        if (p.isFlow || p.pduType !== PDUTYPE_DATAPDU) continue;
        const sd = parseShareDataHeader(p.body);
        if (sd.pduType2 !== PDUTYPE2_INPUT) continue;
        ensure((sd.compressedType & PACKET_COMPRESSED) === 0, "unsupported", "compressed slow-path input");
        const events = parseSlowPathInputData(sd.data);
        this.emit({ kind: "input", format: "slowpath", bytes: slice(userData, p), events });
      }
      return frame;
    }
    if (channelId === this.#messageChannel) {
      parseSecurityHeader(userData); // auto-detect / multitransport responses: opaque
      return frame;
    }
    this.#staticChannel("client", channelId, userData);
    return frame;
  }

  #serverSendData(frame: Uint8Array, pdu: SendData): Uint8Array {
    const { channelId, userData } = pdu;
    if (channelId === this.#ioChannel) {
      if (!this.#activated && !isDemandActive(userData)) {
        const sec = parseSecurityHeader(userData); // licensing
        ensure((sec.flags & SEC_REDIRECTION_PKT) === 0, "unsupported", "server redirection is not supported");
        return frame;
      }
      this.#serverShareControl(userData);
      return frame;
    }
    if (channelId === this.#messageChannel) {
      parseSecurityHeader(userData);
      return frame;
    }
    this.#staticChannel("server", channelId, userData);
    return frame;
  }

  #serverShareControl(userData: Uint8Array): void {
    for (const p of parseShareControlPdus(userData)) {
      if (p.isFlow) continue;
      const bytes = slice(userData, p);
      switch (p.pduType) {
        case PDUTYPE_DEMANDACTIVEPDU:
          this.#activated = true;
          this.emit({ kind: "demand_active", summary: summarizeDemandActive(bytes), pdu: bytes });
          break;
        case PDUTYPE_DEACTIVATEALLPDU:
          this.emit({ kind: "deactivate_all", pdu: bytes });
          break;
        case PDUTYPE_SERVER_REDIR_PKT:
          throw new RdpParseError("unsupported", "server redirection is not supported");
        case PDUTYPE_DATAPDU:
          serverDataPdu(bytes, p.body, this.emit);
          break;
      }
    }
  }

  #staticChannel(from: Side, channelId: number, userData: Uint8Array): void {
    const name = this.#channelNames.get(channelId);
    if (name === undefined) return; // the user channel or an unknown id: the peer will judge it
    if (name === "drdynvc" && from === "server") {
      const chunk = parseChannelPdu(userData);
      if (chunk.flags & CHANNEL_FLAG_FIRST && chunk.data.length > 0) {
        const create = parseDvcCreateRequest(chunk.data);
        if (create?.channelName === GFX_CHANNEL_NAME) {
          throw new RdpParseError(
            "unsupported",
            "server opened the graphics pipeline (GFX) despite the downgrade",
          );
        }
      }
      return;
    }
    if (!AUDITED_CHANNELS.has(name)) return;
    const r = this.#audit.push(from, channelId, userData);
    if (r?.kind === "message") {
      this.emit({ kind: "channel_message", from, channel: name, message: r.message });
    }
    if (r?.kind === "skipped") this.emit({ kind: "channel_skipped", from, channel: name, length: r.length });
  }
}

function isDemandActive(userData: Uint8Array): boolean {
  return userData.length >= 4 && (userData[2] | (userData[3] << 8)) === DEMAND_ACTIVE_TYPE;
}

function slice(userData: Uint8Array, p: { offset: number; totalLength: number }): Uint8Array {
  return userData.subarray(p.offset, p.offset + p.totalLength);
}
