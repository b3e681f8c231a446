/**
 * proxy/rdp/pdu — pure RDP decoders/encoders for the TLS man-in-the-middle proxy. No I/O, no clock.
 *
 * Error contract: every function here either returns or throws `RdpParseError` (with a `code`:
 * truncated | invalid | length_mismatch | too_large | unsupported | trailing_data). Nothing else is
 * thrown on any input. Treat an error as fatal for that connection (fail closed).
 *
 * Typical relay wiring, client -> server (each direction gets its own PduStream after TLS):
 *
 *   const stream = new PduStream();
 *   for (const f of stream.push(chunk)) {           // f.kind: "tpkt" | "fastpath"; f.bytes: one whole PDU
 *     if (f.kind === "fastpath") { record(parseFastPathInput(f.bytes).events); forward(f.bytes); continue; }
 *     switch (phase) {
 *       case "connect-initial": forward(rewriteConnectInitial(f.bytes)); break;   // keep parseMcsConnectInitial(f.bytes).client
 *       case "client-info":     forward(rewriteClientInfoFrame(f.bytes)); break;  // first SDrq on the I/O channel
 *       default: {
 *         const pdu = parseMcsFrame(f.bytes);       // SDrq/SDin, erect domain, attach, joins, DPUm, other
 *         if (pdu.type === "sendDataRequest" && pdu.channelId === ioChannelId &&
 *             parseShareControlPdus(pdu.userData)[0].pduType === PDUTYPE_CONFIRMACTIVEPDU) {
 *           forward(rewriteConfirmActiveFrame(f.bytes)); break;
 *         }
 *         forward(f.bytes);
 *       }
 *     }
 *   }
 *
 * Server -> client: `rewriteConnectResponse(frame, clientCr.negReq.requestedProtocols)`, then
 * `channelNames(ci.client, cr.server)` for id -> name; `summarizeDemandActive(userData)` for the canvas;
 * `isDeactivateAll(userData)` for resizes; `parseFastPathOutput` + `FastPathReassembler` for updates;
 * `ChannelReassembler` + `parseCliprdrPdu`/`parseRdpdrPdu` on static channels. To refuse a client:
 * `encodeConnectionConfirm({..., negotiation: {type: "failure", failureCode: SSL_REQUIRED_BY_SERVER}})`
 * before TLS, or `encodeSetErrorInfoFrame({errorInfo})` + `encodeDisconnectProviderUltimatum()` after.
 *
 * Before TLS, the X.224 Connection Request/Confirm are TPKT frames too (`parseConnectionRequest`,
 * `rewriteConnectionRequest`, `parseConnectionConfirm`, `encodeConnectionConfirm`). The splitter
 * does not understand CredSSP (NLA) TSRequests; handle NLA before feeding the stream.
 *
 * Frame-level functions take/return a whole TPKT frame; "userData" functions take the MCS Send Data
 * userData (`parseMcsFrame(frame).userData`). Under TLS only Client Info and licensing (and
 * auto-detect/heartbeat) carry a security header (`parseSecurityHeader`, flags SEC_INFO_PKT,
 * SEC_LICENSE_PKT...); capability, input and update PDUs start directly with the Share Control Header.
 * Parsed objects are views into the input where noted; copy before keeping them past the chunk.
 */

export { ensure, RdpParseError, type RdpParseErrorCode } from "./errors.ts";
export { ByteReader, ByteWriter, hex, toHex } from "./reader.ts";

// Framing
export * from "./tpkt.ts";
export { type Frame, type FrameKind, frameSize, PduStream } from "./stream.ts";

// X.224
export * from "./x224.ts";

// MCS / GCC
export type { DataBlock, GccEnvelope } from "./gcc.ts";
export { encodeDataBlocks, parseDataBlocks } from "./gcc.ts";
export * from "./gcc_client.ts";
export * from "./gcc_server.ts";
export * from "./mcs_connect.ts";
export * from "./mcs_domain.ts";

// Slow path
export * from "./share.ts";
export * from "./client_info.ts";
export * from "./capabilities.ts";
export * from "./confirm_active.ts";
export * from "./error_info.ts";
export * from "./input.ts";

// Fast path
export * from "./fastpath_output.ts";

// Channels
export * from "./vchannel.ts";
export * from "./cliprdr.ts";
export * from "./rdpdr.ts";

// Keystrokes
export { KeystrokeTranslator } from "./keyboard.ts";
export { type KeyboardLayout, layoutFor, LAYOUTS, UK, US } from "./keyboard_layouts.ts";
