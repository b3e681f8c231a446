// Turns what the MITM state machine sees into the recording (RecordingTap) and metadata events
// (keystrokes, clipboard, drive files). One per TCP connection.
import { encodeMeta, encodeScreenResize, type RecordingHeader, RecordType } from "../../recorder/rdp_file.ts";
import { encodeFastPathInput, type InputEvent } from "./pdu/mod.ts";
import type { MitmEvent } from "./mitm_state.ts";
import type { MetaEvent, Side } from "./meta_events.ts";
import { KeystrokeLog } from "./keystrokes.ts";
import { ClipboardAudit } from "./clipboard_audit.ts";
import { DriveAudit } from "./drive_audit.ts";
import type { RecordingTap } from "./recording_tap.ts";

export interface ConnectionInfo {
  sessionId: string;
  connection: number;
  source: { address: string; port: number };
  target: { host: string; port: number };
  extra: Record<string, unknown>;
}

export interface TapStats {
  fastPathUpdates: Record<string, number>;
  slowPathPdus: number;
  unrenderable: Record<string, number>;
  inputPdus: number;
  /** Audited channel messages seen, by channel name. */
  channelMessages: Record<string, number>;
  endedBy: { by: Side; how: string } | null;
  clientUser: string | null;
  clientName: string | null;
  screen: { width: number; height: number; bpp: number } | null;
}

const LOGON_INFO_TYPES = new Set([0, 1, 2]); // LOGON, LOGON_LONG, PLAINNOTIFY

export class ConnectionTap {
  readonly stats: TapStats = {
    fastPathUpdates: {},
    slowPathPdus: 0,
    unrenderable: {},
    inputPdus: 0,
    channelMessages: {},
    endedBy: null,
    clientUser: null,
    clientName: null,
    screen: null,
  };
  readonly keys: KeystrokeLog;
  #clipboard: ClipboardAudit;
  #drives: DriveAudit;
  #header: Partial<RecordingHeader> = {};

  constructor(
    private readonly info: ConnectionInfo,
    private readonly recording: RecordingTap,
    /** Every metadata event (also written to the recording). */
    private readonly onMeta: (e: MetaEvent) => void,
    private readonly onWarning: (msg: string, fields: Record<string, unknown>) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    const emit = (e: MetaEvent) => this.#meta(e);
    this.keys = new KeystrokeLog(emit, now);
    this.#clipboard = new ClipboardAudit(emit, now);
    this.#drives = new DriveAudit(emit, now);
  }

  handle(e: MitmEvent): void {
    switch (e.kind) {
      case "connect_initial": {
        const core = e.client.core!;
        this.keys.setKeyboardLayout(core.keyboardLayout);
        this.stats.clientName = core.clientName;
        this.#header.clientCoreData = { base64: b64(e.forwardedCore), summary: { ...core } };
        this.#header.width = core.desktopWidth;
        this.#header.height = core.desktopHeight;
        this.#header.colorDepth = Math.min(32, Math.max(8, core.highColorDepth ?? 16));
        break;
      }
      case "connect_response":
        this.#header.serverCoreData = { base64: b64(e.forwardedCore), summary: { ...e.server.core } };
        this.#header.channels = e.channels;
        void this.recording.start(this.#fullHeader());
        break;
      case "client_info":
        this.stats.clientUser = e.info.domain ? `${e.info.domain}\\${e.info.userName}` : e.info.userName;
        break;
      case "demand_active": {
        const s = e.summary;
        const screen = { width: s.desktopWidth, height: s.desktopHeight, bpp: s.colorDepth };
        const prev = this.stats.screen;
        if (
          !prev || prev.width !== screen.width || prev.height !== screen.height || prev.bpp !== screen.bpp
        ) {
          this.stats.screen = screen;
          this.recording.append(RecordType.SCREEN_RESIZE, encodeScreenResize(screen));
        }
        this.recording.append(RecordType.SERVER_SLOWPATH, e.pdu);
        break;
      }
      case "deactivate_all":
      case "server_slowpath":
        this.stats.slowPathPdus++;
        this.recording.append(RecordType.SERVER_SLOWPATH, e.pdu);
        break;
      case "server_fastpath":
        for (const c of e.updateCodes) {
          this.stats.fastPathUpdates[c] = (this.stats.fastPathUpdates[c] ?? 0) + 1;
        }
        this.recording.append(RecordType.SERVER_FASTPATH, e.frame);
        break;
      case "unrenderable_update":
        if (!this.stats.unrenderable[e.what]) {
          this.onWarning("unrenderable update in recording", { what: e.what });
        }
        this.stats.unrenderable[e.what] = (this.stats.unrenderable[e.what] ?? 0) + 1;
        break;
      case "input":
        this.stats.inputPdus++;
        this.#input(e.format, e.bytes, e.events);
        break;
      case "logon":
        if (LOGON_INFO_TYPES.has(e.infoType)) this.keys.logon("save_session_info");
        break;
      case "error_info":
        this.#meta({ type: "error_info", at: this.now().toISOString(), from: "server", code: e.code });
        break;
      case "channel_message":
        this.stats.channelMessages[e.channel] = (this.stats.channelMessages[e.channel] ?? 0) + 1;
        this.#channel(e.from, e.channel, e.message);
        break;
      case "channel_skipped":
        this.#meta({
          type: "audit_gap",
          at: this.now().toISOString(),
          channel: e.channel,
          detail: `${e.length}-byte message from the ${e.from} too large to audit`,
        });
        break;
      case "disconnect":
        this.stats.endedBy ??= { by: e.by, how: e.how };
        break;
      case "confirm_active":
        break;
    }
  }

  /** What this connection adds to sessions.metadata. */
  sessionInfo(): Record<string, unknown> {
    const st = this.stats;
    return {
      client_name: st.clientName,
      client_user: st.clientUser,
      screen: st.screen,
      fastpath_updates: st.fastPathUpdates,
      unrenderable_updates: st.unrenderable,
      channel_messages: st.channelMessages,
    };
  }

  /** Before logon only pointer input is recorded: keystrokes there may be a password. */
  #input(format: "fastpath" | "slowpath", bytes: Uint8Array, events: InputEvent[]): void {
    const loggedOn = this.keys.loggedOn;
    const keyboard = this.keys.input(events);
    if (loggedOn || !keyboard) {
      this.recording.append(
        format === "fastpath" ? RecordType.CLIENT_FASTPATH_INPUT : RecordType.CLIENT_SLOWPATH_INPUT,
        bytes,
      );
      return;
    }
    const pointer = events.filter((e) => e.type === "mouse" || e.type === "mousex" || e.type === "relmouse");
    if (pointer.length > 0) {
      this.recording.append(RecordType.CLIENT_FASTPATH_INPUT, encodeFastPathInput(pointer));
    }
  }

  #channel(from: Side, channel: string, message: Uint8Array): void {
    try {
      if (channel === "cliprdr") this.#clipboard.message(from, message);
      else if (channel === "rdpdr") this.#drives.message(from, message);
    } catch (e) {
      // the PDU is still relayed (the peer judges it); only the audit of this message is lost
      this.#meta({ type: "audit_gap", at: this.now().toISOString(), channel, detail: (e as Error).message });
    }
  }

  #meta(e: MetaEvent): void {
    this.recording.append(RecordType.META, encodeMeta(e as unknown as Record<string, unknown>));
    this.onMeta(e);
  }

  #fullHeader(): RecordingHeader {
    const h = this.#header;
    return {
      startedAt: this.now().toISOString(),
      width: h.width || 1,
      height: h.height || 1,
      colorDepth: h.colorDepth ?? 16,
      sessionId: this.info.sessionId,
      source: this.info.source,
      target: this.info.target,
      channels: h.channels ?? [],
      clientCoreData: h.clientCoreData,
      serverCoreData: h.serverCoreData,
      extra: { ...this.info.extra, connection: this.info.connection },
    };
  }
}

function b64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}
