/**
 * Slow-path headers inside MCS Send Data userData: the basic security header (only Client Info,
 * licensing and a few other PDUs carry one under TLS), Share Control Header (2.2.8.1.1.1.1) and
 * Share Data Header (2.2.8.1.1.1.2).
 */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter } from "./reader.ts";

export const SEC_EXCHANGE_PKT = 0x0001;
export const SEC_ENCRYPT = 0x0008;
export const SEC_INFO_PKT = 0x0040;
export const SEC_LICENSE_PKT = 0x0080;
export const SEC_REDIRECTION_PKT = 0x0400;
export const SEC_AUTODETECT_REQ = 0x1000;
export const SEC_AUTODETECT_RSP = 0x2000;
export const SEC_HEARTBEAT = 0x4000;

export const PDUTYPE_DEMANDACTIVEPDU = 0x1;
export const PDUTYPE_CONFIRMACTIVEPDU = 0x3;
export const PDUTYPE_DEACTIVATEALLPDU = 0x6;
export const PDUTYPE_DATAPDU = 0x7;
export const PDUTYPE_SERVER_REDIR_PKT = 0xa;
export const TS_PROTOCOL_VERSION = 0x1;

export const PDUTYPE2_UPDATE = 0x02;
export const PDUTYPE2_CONTROL = 0x14;
export const PDUTYPE2_POINTER = 0x1b;
export const PDUTYPE2_INPUT = 0x1c;
export const PDUTYPE2_SYNCHRONIZE = 0x1f;
export const PDUTYPE2_SHUTDOWN_REQUEST = 0x24;
export const PDUTYPE2_SAVE_SESSION_INFO = 0x26;
export const PDUTYPE2_FONTLIST = 0x27;
export const PDUTYPE2_FONTMAP = 0x28;
export const PDUTYPE2_SET_ERROR_INFO_PDU = 0x2f;

export const STREAM_LOW = 0x1;
export const PACKET_COMPRESSED = 0x20;

export interface SecurityHeader {
  flags: number;
  flagsHi: number;
  /** Data after the 4-byte header. */
  body: Uint8Array;
}

/** TS_SECURITY_HEADER (2.2.8.1.1.2.1). Encrypted PDUs are refused: the proxy only speaks TLS/NLA. */
export function parseSecurityHeader(userData: Uint8Array): SecurityHeader {
  const r = new ByteReader(userData, "security header");
  const flags = r.u16le("flags");
  const flagsHi = r.u16le("flagsHi");
  ensure((flags & SEC_ENCRYPT) === 0, "unsupported", "security header: SEC_ENCRYPT (standard RDP security)");
  return { flags, flagsHi, body: r.rest() };
}

export interface ShareControlPdu {
  /** TS_FLOW_PDU (RDP 4.0 flow control marker 0x8000); other fields are then zero. */
  isFlow: boolean;
  totalLength: number;
  /** Low 4 bits of pduType (PDUTYPE_*). */
  pduType: number;
  /** High 12 bits of pduType (TS_PROTOCOL_VERSION = 1). */
  version: number;
  /** Absent when totalLength is 4. */
  pduSource: number | null;
  /** The PDU after the Share Control Header (up to totalLength). */
  body: Uint8Array;
  /** Offset of this PDU inside the userData it came from. */
  offset: number;
}

/**
 * All Share Control PDUs in one MCS userData (servers may concatenate several; FreeRDP does the
 * same walk). Lengths must tile the userData exactly.
 */
export function parseShareControlPdus(userData: Uint8Array): ShareControlPdu[] {
  const r = new ByteReader(userData, "share control");
  const out: ShareControlPdu[] = [];
  while (r.remaining > 0) {
    const offset = r.offset;
    const totalLength = r.u16le("totalLength");
    if (totalLength === 0x8000) {
      r.skip(6, "flow pdu");
      out.push({
        isFlow: true,
        totalLength,
        pduType: 0,
        version: 0,
        pduSource: null,
        body: new Uint8Array(0),
        offset,
      });
      continue;
    }
    ensure(totalLength >= 4, "invalid", `share control: totalLength ${totalLength} < 4`);
    ensure(
      totalLength - 2 <= r.remaining,
      "length_mismatch",
      `share control: totalLength ${totalLength} exceeds data`,
    );
    const pduType = r.u16le("pduType");
    const pduSource = totalLength >= 6 ? r.u16le("pduSource") : null;
    const body = r.bytesView(totalLength - (pduSource === null ? 4 : 6), "share control body");
    out.push({
      isFlow: false,
      totalLength,
      pduType: pduType & 0xf,
      version: pduType >> 4,
      pduSource,
      body,
      offset,
    });
  }
  ensure(out.length > 0, "truncated", "share control: empty userData");
  return out;
}

/** The single Share Control PDU that must fill the whole userData. */
export function parseShareControlPdu(userData: Uint8Array): ShareControlPdu {
  const pdus = parseShareControlPdus(userData);
  ensure(pdus.length === 1, "trailing_data", `share control: ${pdus.length} PDUs where one was expected`);
  return pdus[0];
}

export interface ShareDataHeader {
  shareId: number;
  streamId: number;
  uncompressedLength: number;
  pduType2: number;
  compressedType: number;
  compressedLength: number;
  /** Payload after the share data header. */
  data: Uint8Array;
}

/** Parse the Share Data Header from a PDUTYPE_DATAPDU body. */
export function parseShareDataHeader(body: Uint8Array): ShareDataHeader {
  const r = new ByteReader(body, "share data");
  const h = {
    shareId: r.u32le("shareId"),
    pad1: r.u8("pad1"),
    streamId: r.u8("streamId"),
    uncompressedLength: r.u16le("uncompressedLength"),
    pduType2: r.u8("pduType2"),
    compressedType: r.u8("compressedType"),
    compressedLength: r.u16le("compressedLength"),
  };
  return {
    shareId: h.shareId,
    streamId: h.streamId,
    uncompressedLength: h.uncompressedLength,
    pduType2: h.pduType2,
    compressedType: h.compressedType,
    compressedLength: h.compressedLength,
    data: r.rest(),
  };
}

/** Encode Share Control (+ Share Data when pduType2 given) around `data`. */
export function encodeSharePdu(opts: {
  pduType: number;
  pduSource: number;
  shareId?: number;
  pduType2?: number;
  streamId?: number;
  data: Uint8Array;
}): Uint8Array {
  const isData = opts.pduType2 !== undefined;
  const total = 6 + (isData ? 12 : 0) + opts.data.length;
  const w = new ByteWriter(total).u16le(total, "totalLength").u16le(
    (TS_PROTOCOL_VERSION << 4) | opts.pduType,
  );
  w.u16le(opts.pduSource, "pduSource");
  if (isData) {
    // uncompressedLength: peers disagree (the 4.1.19 trace writes totalLength, FreeRDP the payload
    // length) and ignore it for uncompressed PDUs; totalLength - 14 counts from pduType2 onwards.
    w.u32le(opts.shareId ?? 0, "shareId").u8(0).u8(opts.streamId ?? STREAM_LOW).u16le(total - 14);
    w.u8(opts.pduType2!, "pduType2").u8(0).u16le(0);
  }
  return w.bytes(opts.data).finish();
}

/** True when any Share Control PDU in `userData` is Deactivate All (a resize/reactivation follows). */
export function isDeactivateAll(userData: Uint8Array): boolean {
  return parseShareControlPdus(userData).some((p) => !p.isFlow && p.pduType === PDUTYPE_DEACTIVATEALLPDU);
}
