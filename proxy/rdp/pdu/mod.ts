/**
 * proxy/rdp/pdu — pure RDP decoders/encoders for the TLS man-in-the-middle proxy. No I/O, no clock.
 *
 * Error contract: every function here either returns or throws `RdpParseError` (with a `code`:
 * truncated | invalid | length_mismatch | too_large | unsupported | trailing_data). Nothing else is
 * thrown on any input. Treat an error as fatal for that connection (fail closed).
 *
 * Typical relay wiring (client->server direction; server->client is symmetric):
 *
 *   const stream = new PduStream();                 // one per direction, after TLS is terminated
 *   for (const f of stream.push(chunk)) {           // f.kind: "tpkt" | "fastpath", f.bytes: whole PDU
 *     if (f.kind === "fastpath") { const { events } = parseFastPathInput(f.bytes); ...; forward(f.bytes) }
 *     else switch (phase) {
 *       case "connect-initial": forward(rewriteConnectInitial(f.bytes)); break;
 *       case "client-info":     forward(rewriteClientInfoFrame(f.bytes)); break;   // first SDrq on I/O
 *       default: {
 *         const pdu = parseMcsFrame(f.bytes);         // Send Data Request/Indication, joins, DPUm...
 *         if (pdu.type === "sendDataRequest" && pdu.channelId === ioChannel) {
 *           const sc = parseShareControlPdus(pdu.userData);
 *           if (sc[0].pduType === PDUTYPE_CONFIRMACTIVEPDU) { forward(rewriteConfirmActiveFrame(f.bytes)); break; }
 *         }
 *         forward(f.bytes);
 *       }
 *     }
 *   }
 *
 * Before TLS, the X.224 Connection Request/Confirm are TPKT frames too (`parseConnectionRequest`,
 * `rewriteConnectionRequest`, `parseConnectionConfirm`, `encodeConnectionConfirm`). The splitter
 * does not understand CredSSP (NLA) TSRequests; handle NLA before feeding the stream.
 *
 * Frame-level functions take/return a whole TPKT frame; "userData" functions take the MCS Send Data
 * userData (`parseMcsFrame(frame).userData`). Under TLS only Client Info and licensing carry a
 * security header; capability, input and update PDUs start directly with the Share Control Header.
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
