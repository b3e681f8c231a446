// Server→client updates the recording depends on (pure): slow-path data PDUs and fast-path output.
import {
  FASTPATH_OUTPUT_COMPRESSION_USED,
  FASTPATH_UPDATETYPE_ORDERS,
  FASTPATH_UPDATETYPE_SURFCMDS,
  PACKET_COMPRESSED,
  parseFastPathOutput,
  parseSetErrorInfo,
  parseShareDataHeader,
  PDUTYPE2_POINTER,
  PDUTYPE2_SAVE_SESSION_INFO,
  PDUTYPE2_SET_ERROR_INFO_PDU,
  PDUTYPE2_UPDATE,
} from "./pdu/mod.ts";
import { parseSaveSessionInfoType } from "./pdu/save_session_info.ts";
import type { MitmEvent } from "./mitm_events.ts";

/** A server Share Data PDU on the I/O channel: what to record, errors, logon notifications. */
export function serverDataPdu(pdu: Uint8Array, body: Uint8Array, emit: (e: MitmEvent) => void): void {
  const sd = parseShareDataHeader(body);
  const compressed = (sd.compressedType & PACKET_COMPRESSED) !== 0;
  switch (sd.pduType2) {
    case PDUTYPE2_UPDATE:
    case PDUTYPE2_POINTER:
      if (compressed) emit({ kind: "unrenderable_update", what: "bulk-compressed slow-path update" });
      else if (sd.pduType2 === PDUTYPE2_UPDATE && sd.data.length >= 2 && (sd.data[0] | sd.data[1]) === 0) {
        emit({ kind: "unrenderable_update", what: "slow-path orders" }); // UPDATETYPE_ORDERS
      }
      emit({ kind: "server_slowpath", pdu });
      break;
    case PDUTYPE2_SET_ERROR_INFO_PDU:
      if (!compressed) emit({ kind: "error_info", code: parseSetErrorInfo(pdu) ?? 0 });
      break;
    case PDUTYPE2_SAVE_SESSION_INFO:
      if (!compressed) emit({ kind: "logon", infoType: parseSaveSessionInfoType(sd.data) });
      break;
  }
}

/** A fast-path output frame: recorded as is, with the update codes it carries (fragments included). */
export function fastPathOutput(frame: Uint8Array, emit: (e: MitmEvent) => void): void {
  const pdu = parseFastPathOutput(frame);
  const codes: number[] = [];
  let compressed = false;
  for (const u of pdu.updates) {
    codes.push(u.updateCode);
    const c = (u.compression & FASTPATH_OUTPUT_COMPRESSION_USED) !== 0 &&
      ((u.compressionFlags ?? 0) & PACKET_COMPRESSED) !== 0;
    compressed ||= c;
    if (u.updateCode === FASTPATH_UPDATETYPE_ORDERS) {
      emit({ kind: "unrenderable_update", what: "orders" });
    }
    if (u.updateCode === FASTPATH_UPDATETYPE_SURFCMDS) {
      emit({ kind: "unrenderable_update", what: "surface commands" });
    }
  }
  if (compressed) emit({ kind: "unrenderable_update", what: "bulk-compressed fast-path update" });
  emit({ kind: "server_fastpath", frame, updateCodes: codes, compressed });
}
