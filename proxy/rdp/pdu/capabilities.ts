/** Demand Active / Confirm Active PDUs and their capability sets (MS-RDPBCGR 2.2.1.13, 2.2.7). */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter } from "./reader.ts";
import {
  encodeSharePdu,
  parseShareControlPdu,
  PDUTYPE_CONFIRMACTIVEPDU,
  PDUTYPE_DEMANDACTIVEPDU,
} from "./share.ts";

export const CAPSTYPE_GENERAL = 0x0001;
export const CAPSTYPE_BITMAP = 0x0002;
export const CAPSTYPE_ORDER = 0x0003;
export const CAPSTYPE_BITMAPCACHE = 0x0004;
export const CAPSTYPE_POINTER = 0x0008;
export const CAPSTYPE_INPUT = 0x000d;
export const CAPSTYPE_GLYPHCACHE = 0x0010;
export const CAPSTYPE_OFFSCREENCACHE = 0x0011;
export const CAPSTYPE_VIRTUALCHANNEL = 0x0014;
export const CAPSETTYPE_MULTIFRAGMENTUPDATE = 0x001a;
export const CAPSETTYPE_LARGE_POINTER = 0x001b;
export const CAPSETTYPE_SURFACE_COMMANDS = 0x001c;
export const CAPSETTYPE_BITMAP_CODECS = 0x001d;

const MAX_CAPABILITY_SETS = 64;

export interface CapabilitySet {
  type: number;
  /** Contents without the 4-byte capability header. */
  data: Uint8Array;
}

export interface ActivePdu {
  pduSource: number;
  shareId: number;
  /** Confirm Active only (the server channel id, 0x03EA). */
  originatorId?: number;
  sourceDescriptor: Uint8Array;
  /** pad2Octets after numberCapabilities, kept for byte-identical re-encoding. */
  pad2: number;
  capabilities: CapabilitySet[];
  /** Demand Active only; some servers omit it. */
  sessionId?: number;
}

function readCapabilities(r: ByteReader, lengthCombined: number): [CapabilitySet[], number] {
  const c = r.sub(lengthCombined, "combined capabilities");
  const count = c.u16le("numberCapabilities");
  ensure(count <= MAX_CAPABILITY_SETS, "too_large", `capabilities: ${count} sets`);
  const pad2 = c.u16le("pad2Octets");
  const caps: CapabilitySet[] = [];
  for (let i = 0; i < count; i++) {
    const type = c.u16le("capabilitySetType");
    const len = c.u16le("lengthCapability");
    ensure(len >= 4, "invalid", `capability 0x${type.toString(16)}: length ${len} < 4`);
    caps.push({ type, data: c.take(len - 4, `capability 0x${type.toString(16)}`) });
  }
  c.expectEnd("capability sets (lengthCombinedCapabilities disagrees with the sets)");
  return [caps, pad2];
}

function parseActive(userData: Uint8Array, demand: boolean): ActivePdu {
  const sc = parseShareControlPdu(userData);
  const want = demand ? PDUTYPE_DEMANDACTIVEPDU : PDUTYPE_CONFIRMACTIVEPDU;
  ensure(!sc.isFlow && sc.pduType === want, "invalid", `active pdu: pduType ${sc.pduType}, want ${want}`);
  ensure(sc.pduSource !== null, "truncated", "active pdu: no pduSource");
  const r = new ByteReader(sc.body, demand ? "demand active" : "confirm active");
  const shareId = r.u32le("shareId");
  const originatorId = demand ? undefined : r.u16le("originatorId");
  const lengthSourceDescriptor = r.u16le("lengthSourceDescriptor");
  const lengthCombined = r.u16le("lengthCombinedCapabilities");
  const sourceDescriptor = r.take(lengthSourceDescriptor, "sourceDescriptor");
  const [capabilities, pad2] = readCapabilities(r, lengthCombined);
  const pdu: ActivePdu = { pduSource: sc.pduSource, shareId, sourceDescriptor, pad2, capabilities };
  if (originatorId !== undefined) pdu.originatorId = originatorId;
  if (demand && r.remaining >= 4) pdu.sessionId = r.u32le("sessionId");
  r.expectEnd("active pdu");
  return pdu;
}

/** Server Demand Active (userData of the SDin; TLS, so no security header). */
export function parseDemandActive(userData: Uint8Array): ActivePdu {
  return parseActive(userData, true);
}

/** Client Confirm Active (userData of the SDrq). */
export function parseConfirmActive(userData: Uint8Array): ActivePdu {
  return parseActive(userData, false);
}

/** Encode with numberCapabilities, lengthCombinedCapabilities and totalLength recomputed. */
export function encodeActivePdu(pdu: ActivePdu, kind: "demand" | "confirm"): Uint8Array {
  const demand = kind === "demand";
  ensure(pdu.capabilities.length <= MAX_CAPABILITY_SETS, "too_large", "active pdu: too many capability sets");
  const caps = new ByteWriter(512).u16le(pdu.capabilities.length).u16le(pdu.pad2, "pad2Octets");
  for (const c of pdu.capabilities) {
    caps.u16le(c.type, "capabilitySetType").u16le(c.data.length + 4).bytes(c.data);
  }
  const combined = caps.finish();
  const w = new ByteWriter(combined.length + 32).u32le(pdu.shareId, "shareId");
  if (!demand) {
    ensure(pdu.originatorId !== undefined, "invalid", "confirm active: originatorId missing");
    w.u16le(pdu.originatorId, "originatorId");
  }
  w.u16le(pdu.sourceDescriptor.length, "lengthSourceDescriptor").u16le(
    combined.length,
    "lengthCombinedCapabilities",
  );
  w.bytes(pdu.sourceDescriptor).bytes(combined);
  if (demand && pdu.sessionId !== undefined) w.u32le(pdu.sessionId, "sessionId");
  return encodeSharePdu({
    pduType: demand ? PDUTYPE_DEMANDACTIVEPDU : PDUTYPE_CONFIRMACTIVEPDU,
    pduSource: pdu.pduSource,
    data: w.finish(),
  });
}

export interface DemandActiveSummary {
  shareId: number;
  /** From the Bitmap Capability Set; the canvas size for the recording. */
  desktopWidth: number;
  desktopHeight: number;
  /** preferredBitsPerPixel of the Bitmap Capability Set. */
  colorDepth: number;
  /** General Capability extraFlags (FASTPATH_OUTPUT_SUPPORTED = 0x0001...). */
  generalExtraFlags: number | null;
  /** Multifragment Update MaxRequestSize: bound for fast-path reassembly. */
  multifragmentMaxRequestSize: number | null;
  capabilityTypes: number[];
}

export function summarizeDemandActive(userData: Uint8Array): DemandActiveSummary {
  const pdu = parseDemandActive(userData);
  const find = (t: number) => pdu.capabilities.find((c) => c.type === t);
  const bitmap = find(CAPSTYPE_BITMAP);
  ensure(bitmap !== undefined, "invalid", "demand active: no Bitmap Capability Set");
  const b = new ByteReader(bitmap.data, "bitmap capability");
  const colorDepth = b.u16le("preferredBitsPerPixel");
  b.skip(6, "receive*BitsPerPixel");
  const desktopWidth = b.u16le("desktopWidth");
  const desktopHeight = b.u16le("desktopHeight");
  const general = find(CAPSTYPE_GENERAL);
  const mf = find(CAPSETTYPE_MULTIFRAGMENTUPDATE);
  let generalExtraFlags: number | null = null;
  if (general) {
    const g = new ByteReader(general.data, "general capability");
    g.skip(10, "general capability fields");
    generalExtraFlags = g.u16le("extraFlags");
  }
  return {
    shareId: pdu.shareId,
    desktopWidth,
    desktopHeight,
    colorDepth,
    generalExtraFlags,
    multifragmentMaxRequestSize: mf ? new ByteReader(mf.data, "multifragment").u32le("MaxRequestSize") : null,
    capabilityTypes: pdu.capabilities.map((c) => c.type),
  };
}
