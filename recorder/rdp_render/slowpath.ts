// Server slow-path PDUs after X.224/MCS (MS-RDPBCGR 2.2.8.1.1.1.1 share control header): Demand
// Active (desktop size), Deactivate All, and share data PDUs Update (0x02) and Pointer (0x1B).

import { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError, unsupported } from "./errors.ts";
import { readColorPointer, readLargePointer, readNewPointer } from "./pointer.ts";
import type { UpdateSink } from "./sink.ts";

export const PDUTYPE_DEMANDACTIVE = 0x1;
export const PDUTYPE_DEACTIVATEALL = 0x6;
export const PDUTYPE_DATA = 0x7;
export const PDUTYPE2_UPDATE = 0x02;
export const PDUTYPE2_INPUT = 0x1c;
export const PDUTYPE2_POINTER = 0x1b;
const PACKET_COMPRESSED = 0x20;
const FLOW_MARKER = 0x8000;
const CAPSTYPE_BITMAP = 0x0002;

export interface SharePdu {
  type: number;
  /** The PDU after the share control header. */
  body: ByteReader;
}

/** Split concatenated share-control PDUs; flow PDUs (totalLength 0x8000) are skipped. */
export function* sharePdus(bytes: Uint8Array): Generator<SharePdu> {
  const r = new ByteReader(bytes);
  while (r.remaining > 0) {
    const totalLength = r.u16("totalLength");
    if (totalLength === FLOW_MARKER) { // TS_FLOW_PDU: 8 bytes, nothing to draw
      r.skip(6, "flow PDU");
      continue;
    }
    if (totalLength < 4) throw malformed(`share control totalLength ${totalLength}`);
    const pdu = r.sub(totalLength - 2, "share control PDU");
    const type = pdu.u16("pduType") & 0x0f;
    if (pdu.remaining >= 2) pdu.skip(2); // pduSource
    yield { type, body: pdu };
  }
}

/** Share data header (2.2.8.1.1.1.2); returns pduType2, leaving `r` at the PDU data. */
export function shareDataType(r: ByteReader): number {
  r.skip(4 + 1 + 1 + 2, "share data header"); // shareId, pad1, streamId, uncompressedLength
  const pduType2 = r.u8("pduType2");
  const compressedType = r.u8("compressedType");
  r.skip(2, "compressedLength");
  if (compressedType & PACKET_COMPRESSED) {
    throw new RenderError("compressed", "bulk-compressed share data PDU");
  }
  return pduType2;
}

export function feedSlowPath(bytes: Uint8Array, sink: UpdateSink): void {
  for (const { type, body } of sharePdus(bytes)) {
    if (type === PDUTYPE_DEMANDACTIVE) {
      const size = demandActiveDesktop(body);
      sink.desktopSize(size.width, size.height, size.bpp);
    } else if (type === PDUTYPE_DATA) {
      const pduType2 = shareDataType(body);
      if (pduType2 === PDUTYPE2_UPDATE) update(body, sink);
      else if (pduType2 === PDUTYPE2_POINTER) pointer(body, sink);
    }
    // Deactivate All needs nothing: the Demand Active that follows carries the new size.
  }
}

function update(r: ByteReader, sink: UpdateSink): void {
  const updateType = r.u16("updateType");
  switch (updateType) {
    case 1:
      return sink.bitmap(r);
    case 3: // SYNCHRONIZE
      return;
    case 0:
      throw unsupported("unsupported update: slow-path orders");
    case 2:
      throw unsupported("unsupported update: slow-path palette");
    default:
      throw malformed(`unknown slow-path updateType ${updateType}`);
  }
}

function pointer(r: ByteReader, sink: UpdateSink): void {
  const messageType = r.u16("messageType");
  r.skip(2, "pad2Octets");
  switch (messageType) {
    case 0x0001: { // SYSTEM
      const sys = r.u32("systemPointerType");
      if (sys === 0) return sink.pointerHidden();
      if (sys === 0x7f00) return sink.pointerDefault();
      throw malformed(`unknown system pointer 0x${sys.toString(16)}`);
    }
    case 0x0003: // POSITION
      return sink.pointerPosition(r.u16("x"), r.u16("y"));
    case 0x0006: // COLOR
      return sink.pointerShape(readColorPointer(r));
    case 0x0007: // CACHED
      return sink.pointerCached(r.u16("cacheIndex"));
    case 0x0008: // POINTER (new)
      return sink.pointerShape(readNewPointer(r));
    case 0x0009: // LARGE
      return sink.pointerShape(readLargePointer(r));
    default:
      throw malformed(`unknown pointer messageType ${messageType}`);
  }
}

/** Desktop size and depth from the Bitmap Capability Set of a Demand Active PDU (2.2.1.13.1). */
export function demandActiveDesktop(r: ByteReader): { width: number; height: number; bpp: number } {
  r.skip(4, "shareId");
  const lengthSourceDescriptor = r.u16("lengthSourceDescriptor");
  r.skip(2, "lengthCombinedCapabilities");
  r.skip(lengthSourceDescriptor, "sourceDescriptor");
  const count = r.u16("numberCapabilities");
  r.skip(2, "pad2Octets");
  for (let i = 0; i < count; i++) {
    const capType = r.u16("capabilitySetType");
    const length = r.u16("lengthCapability");
    if (length < 4) throw malformed(`capability set length ${length}`);
    const cap = r.sub(length - 4, "capability set");
    if (capType !== CAPSTYPE_BITMAP) continue;
    const bpp = cap.u16("preferredBitsPerPixel");
    cap.skip(6, "receive1/4/8BitPerPixel");
    return { width: cap.u16("desktopWidth"), height: cap.u16("desktopHeight"), bpp };
  }
  throw malformed("Demand Active without a Bitmap Capability Set");
}
