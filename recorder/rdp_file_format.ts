// RDP recording file format, version 1 (pure: constants, header validation, payload helpers).
//
// Layout (all integers little-endian):
//   magic    8 bytes  "JHRDPREC"
//   version  u16      1
//   hdrLen   u32      length of the header JSON (≤ MAX_HEADER_BYTES)
//   header   hdrLen   UTF-8 JSON, see RecordingHeader
//   records  …        u8 type | u32 offsetMillis | u32 length | payload[length]
//
// offsetMillis is the time since the recording started, taken from a monotonic clock (so wall-clock
// jumps cannot reorder records); it never decreases within a file. u32 milliseconds cover 49.7 days.
// The wall-clock start is in the header (startedAt); wall time of a record = startedAt + offsetMillis.
// A complete file ends with one END record (empty payload); a file without END was cut short (crash,
// full disk) and readers accept it up to the last whole record.

export const MAGIC = new TextEncoder().encode("JHRDPREC");
export const FORMAT_VERSION = 1;
/** Bytes before the header JSON: magic + version + header length. */
export const PREAMBLE_BYTES = 8 + 2 + 4;
export const RECORD_HEADER_BYTES = 1 + 4 + 4;
export const MAX_HEADER_BYTES = 1 << 20;
/** Upper bound for one record's payload; bigger is treated as corruption by the reader. */
export const MAX_RECORD_BYTES = 16 << 20;
export const MAX_OFFSET_MILLIS = 0xffff_ffff;

export const RecordType = {
  /** A server→client fast-path output PDU as on the wire after TLS (TS_FP_UPDATE_PDU incl. header). */
  SERVER_FASTPATH: 1,
  /** Server→client slow-path data after X.224/MCS: one or more share-control PDUs. */
  SERVER_SLOWPATH: 2,
  /** A client→server fast-path input PDU (TS_FP_INPUT_PDU incl. header). */
  CLIENT_FASTPATH_INPUT: 3,
  /** Client→server slow-path input: share-control PDU(s) carrying TS_INPUT_PDU_DATA. */
  CLIENT_SLOWPATH_INPUT: 4,
  /** u16 width | u16 height | u16 bpp (see encodeScreenResize). */
  SCREEN_RESIZE: 5,
  /** u16 channel id | data (see encodeChannelData); ids map to header.channels. */
  CHANNEL_DATA: 6,
  /** UTF-8 JSON object: keystrokes, clipboard, file names… (see encodeMeta). */
  META: 7,
  /** Clean end of recording; empty payload; nothing may follow. */
  END: 8,
} as const;
export type RecordType = typeof RecordType[keyof typeof RecordType];
const KNOWN_TYPES = new Set<number>(Object.values(RecordType));
export function isRecordType(n: number): n is RecordType {
  return KNOWN_TYPES.has(n);
}

export type RecordingFormatErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "bad_header"
  | "truncated_header"
  | "bad_record"
  | "bad_payload";

/** The file is not a recording of a version we read, or its bytes are corrupt. */
export class RecordingFormatError extends Error {
  override name = "RecordingFormatError";
  constructor(readonly code: RecordingFormatErrorCode, message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

/** Raw GCC block (base64) plus a decoded summary, as the proxy saw it. */
export interface GccBlock {
  base64: string;
  summary: Record<string, unknown>;
}

export interface RecordingHeader {
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  width: number;
  height: number;
  colorDepth: number;
  sessionId: string;
  source: { address: string; port?: number };
  target: { host: string; port: number };
  /** Static virtual channels by index, with the MCS channel ids the server assigned. */
  channels: { id: number; name: string }[];
  clientCoreData?: GccBlock;
  serverCoreData?: GccBlock;
  /** Free-form extras (proxy version, negotiated protocol…). */
  extra?: Record<string, unknown>;
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** Checks a parsed header object; throws RecordingFormatError("bad_header") naming the bad field. */
export function validateHeader(h: unknown): RecordingHeader {
  const bad = (field: string): never => {
    throw new RecordingFormatError("bad_header", `header field ${field} is missing or invalid`);
  };
  if (typeof h !== "object" || h === null || Array.isArray(h)) bad("(root)");
  const o = h as Record<string, unknown>;
  if (typeof o.startedAt !== "string" || Number.isNaN(Date.parse(o.startedAt))) bad("startedAt");
  if (!isInt(o.width, 1, 0xffff)) bad("width");
  if (!isInt(o.height, 1, 0xffff)) bad("height");
  if (!isInt(o.colorDepth, 1, 32)) bad("colorDepth");
  if (typeof o.sessionId !== "string") bad("sessionId");
  const src = o.source as Record<string, unknown> | undefined;
  if (typeof src !== "object" || src === null || typeof src.address !== "string") bad("source");
  const dst = o.target as Record<string, unknown> | undefined;
  if (typeof dst !== "object" || dst === null || typeof dst.host !== "string" || !isInt(dst.port, 0, 65535)) {
    bad("target");
  }
  if (!Array.isArray(o.channels)) bad("channels");
  for (const c of o.channels as unknown[]) {
    const ch = c as Record<string, unknown>;
    if (typeof ch !== "object" || ch === null || !isInt(ch.id, 0, 0xffff) || typeof ch.name !== "string") {
      bad("channels");
    }
  }
  for (const k of ["clientCoreData", "serverCoreData"]) {
    const g = o[k] as Record<string, unknown> | undefined;
    if (g === undefined) continue;
    if (
      typeof g !== "object" || g === null || typeof g.base64 !== "string" || typeof g.summary !== "object"
    ) {
      bad(k);
    }
  }
  return o as unknown as RecordingHeader;
}

/** Magic, version and length-prefixed header JSON. */
export function encodePreamble(header: RecordingHeader): Uint8Array {
  validateHeader(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > MAX_HEADER_BYTES) throw new RangeError("recording header too large");
  const out = new Uint8Array(PREAMBLE_BYTES + json.length);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint16(8, FORMAT_VERSION, true);
  dv.setUint32(10, json.length, true);
  out.set(json, PREAMBLE_BYTES);
  return out;
}

export interface ScreenSize {
  width: number;
  height: number;
  bpp: number;
}

export function encodeScreenResize(s: ScreenSize): Uint8Array {
  const out = new Uint8Array(6);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, s.width, true);
  dv.setUint16(2, s.height, true);
  dv.setUint16(4, s.bpp, true);
  return out;
}

export function decodeScreenResize(p: Uint8Array): ScreenSize {
  if (p.length !== 6) throw new RecordingFormatError("bad_payload", "SCREEN_RESIZE payload must be 6 bytes");
  const dv = new DataView(p.buffer, p.byteOffset, p.length);
  return { width: dv.getUint16(0, true), height: dv.getUint16(2, true), bpp: dv.getUint16(4, true) };
}

export function encodeChannelData(channelId: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + data.length);
  new DataView(out.buffer).setUint16(0, channelId, true);
  out.set(data, 2);
  return out;
}

export function decodeChannelData(p: Uint8Array): { channelId: number; data: Uint8Array } {
  if (p.length < 2) {
    throw new RecordingFormatError("bad_payload", "CHANNEL_DATA payload shorter than 2 bytes");
  }
  return { channelId: p[0] | (p[1] << 8), data: p.subarray(2) };
}

export function encodeMeta(event: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event));
}

export function decodeMeta(p: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(p));
  } catch (e) {
    throw new RecordingFormatError("bad_payload", `META payload is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new RecordingFormatError("bad_payload", "META payload is not a JSON object");
  }
  return v as Record<string, unknown>;
}
