// What the MITM state machine reports about a connection (see mitm_state.ts).
import type {
  ClientDataSummary,
  ClientInfo,
  DemandActiveSummary,
  InputEvent,
  ServerDataSummary,
} from "./pdu/mod.ts";

/** Static channels whose messages are reassembled and handed to the metadata collector. */
export const AUDITED_CHANNELS = new Set(["cliprdr", "rdpdr"]);

export type Side = "client" | "server";

export type MitmEvent =
  | {
    kind: "connect_initial";
    /** What the client asked for (before the downgrade). */
    client: ClientDataSummary;
    /** CS_CORE as forwarded to the server (after the downgrade). */
    forwardedCore: Uint8Array;
  }
  | {
    kind: "connect_response";
    server: ServerDataSummary;
    /** SC_CORE as forwarded to the client. */
    forwardedCore: Uint8Array;
    channels: { id: number; name: string }[];
    ioChannelId: number;
  }
  | { kind: "client_info"; info: ClientInfo }
  | { kind: "demand_active"; summary: DemandActiveSummary; pdu: Uint8Array }
  | { kind: "confirm_active" }
  | { kind: "deactivate_all"; pdu: Uint8Array }
  /** Slow-path share-control PDU worth recording (update, pointer). */
  | { kind: "server_slowpath"; pdu: Uint8Array }
  | { kind: "server_fastpath"; frame: Uint8Array; updateCodes: number[]; compressed: boolean }
  /** Orders or surface commands: the recording cannot render them (the downgrade should prevent it). */
  | { kind: "unrenderable_update"; what: string }
  | { kind: "input"; format: "fastpath" | "slowpath"; bytes: Uint8Array; events: InputEvent[] }
  | { kind: "logon"; infoType: number }
  | { kind: "error_info"; code: number }
  | { kind: "channel_message"; from: Side; channel: string; message: Uint8Array }
  | { kind: "channel_skipped"; from: Side; channel: string; length: number }
  | { kind: "disconnect"; by: Side; how: "mcs" | "x224" };
