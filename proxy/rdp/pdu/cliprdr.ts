/** Minimal MS-RDPECLIP parsing for audit: format lists, text pastes and file lists. */
import { ensure } from "./errors.ts";
import { ByteReader, decodeAsciiz, decodeUtf16z } from "./reader.ts";

export const CB_MONITOR_READY = 0x0001;
export const CB_FORMAT_LIST = 0x0002;
export const CB_FORMAT_LIST_RESPONSE = 0x0003;
export const CB_FORMAT_DATA_REQUEST = 0x0004;
export const CB_FORMAT_DATA_RESPONSE = 0x0005;
export const CB_CLIP_CAPS = 0x0007;
export const CB_FILECONTENTS_REQUEST = 0x0008;
export const CB_FILECONTENTS_RESPONSE = 0x0009;

export const CB_RESPONSE_OK = 0x0001;
export const CB_RESPONSE_FAIL = 0x0002;
export const CB_ASCII_NAMES = 0x0004;
export const CB_USE_LONG_FORMAT_NAMES = 0x00000002;

export const CF_TEXT = 1;
export const CF_UNICODETEXT = 13;
export const FILE_ATTRIBUTE_DIRECTORY = 0x10;
const FD_FILESIZE = 0x40;
const FILEDESCRIPTORW_SIZE = 592;
const MAX_FILE_ITEMS = 100_000;

export interface CliprdrPdu {
  msgType: number;
  msgFlags: number;
  /** Body (dataLen bytes). */
  data: Uint8Array;
}

/** One reassembled cliprdr channel message (CLIPRDR_HEADER + body). */
export function parseCliprdrPdu(message: Uint8Array): CliprdrPdu {
  const r = new ByteReader(message, "cliprdr");
  const msgType = r.u16le("msgType");
  const msgFlags = r.u16le("msgFlags");
  const data = r.bytesView(r.u32le("dataLen"), "cliprdr data");
  // Some clients pad the message; trailing bytes after dataLen are ignored by design.
  return { msgType, msgFlags, data };
}

/** generalFlags of CB_CLIP_CAPS (CLIPRDR_GENERAL_CAPABILITY), or 0 when absent. */
export function parseClipCapsGeneralFlags(pdu: CliprdrPdu): number {
  ensure(pdu.msgType === CB_CLIP_CAPS, "invalid", "cliprdr: not CB_CLIP_CAPS");
  const r = new ByteReader(pdu.data, "cliprdr caps");
  const count = r.u16le("cCapabilitiesSets");
  r.skip(2, "pad1");
  let flags = 0;
  for (let i = 0; i < count; i++) {
    const type = r.u16le("capabilitySetType");
    const len = r.u16le("lengthCapability");
    ensure(len >= 4, "invalid", "cliprdr caps: length < 4");
    const c = r.sub(len - 4, "capability");
    if (type === 1) {
      c.u32le("version");
      flags = c.u32le("generalFlags");
    }
  }
  return flags;
}

export interface ClipFormat {
  id: number;
  name: string;
}

/**
 * CB_FORMAT_LIST. Whether names are long (null-terminated UTF-16) or short (32 bytes) depends on
 * CB_USE_LONG_FORMAT_NAMES having been negotiated by both sides' CB_CLIP_CAPS.
 */
export function parseFormatList(pdu: CliprdrPdu, longFormatNames: boolean): ClipFormat[] {
  ensure(pdu.msgType === CB_FORMAT_LIST, "invalid", "cliprdr: not CB_FORMAT_LIST");
  const r = new ByteReader(pdu.data, "format list");
  const out: ClipFormat[] = [];
  while (r.remaining > 0) {
    const id = r.u32le("formatId");
    if (!longFormatNames) {
      const raw = r.bytesView(32, "formatName");
      out.push({ id, name: pdu.msgFlags & CB_ASCII_NAMES ? decodeAsciiz(raw) : decodeUtf16z(raw) });
      continue;
    }
    const start = r.offset;
    while (r.u16le("wszFormatName") !== 0) { /* scan to the UTF-16 NUL */ }
    out.push({ id, name: decodeUtf16z(r.bytes.subarray(start, r.offset)) });
  }
  return out;
}

/** requestedFormatId of CB_FORMAT_DATA_REQUEST: needed to interpret the following response. */
export function parseFormatDataRequest(pdu: CliprdrPdu): number {
  ensure(pdu.msgType === CB_FORMAT_DATA_REQUEST, "invalid", "cliprdr: not CB_FORMAT_DATA_REQUEST");
  return new ByteReader(pdu.data, "format data request").u32le("requestedFormatId");
}

/** Text of a CB_FORMAT_DATA_RESPONSE to a CF_UNICODETEXT request (null when the response failed). */
export function parseUnicodeTextResponse(pdu: CliprdrPdu): string | null {
  ensure(pdu.msgType === CB_FORMAT_DATA_RESPONSE, "invalid", "cliprdr: not CB_FORMAT_DATA_RESPONSE");
  if (pdu.msgFlags & CB_RESPONSE_FAIL) return null;
  return decodeUtf16z(pdu.data);
}

export interface ClipFile {
  name: string;
  /** null when FD_FILESIZE is not set. */
  size: number | null;
  directory: boolean;
}

/** FileGroupDescriptorW (the data of a format-data response for that registered format). */
export function parseFileGroupDescriptorW(data: Uint8Array): ClipFile[] {
  const r = new ByteReader(data, "FileGroupDescriptorW");
  const count = r.u32le("cItems");
  ensure(count <= MAX_FILE_ITEMS, "too_large", `FileGroupDescriptorW: ${count} items`);
  ensure(
    count * FILEDESCRIPTORW_SIZE <= r.remaining,
    "truncated",
    `FileGroupDescriptorW: ${count} items do not fit`,
  );
  const files: ClipFile[] = [];
  for (let i = 0; i < count; i++) {
    const d = r.sub(FILEDESCRIPTORW_SIZE, "FILEDESCRIPTORW");
    const flags = d.u32le("flags");
    d.skip(32, "reserved1");
    const attributes = d.u32le("fileAttributes");
    d.skip(16 + 8, "reserved2, lastWriteTime");
    const high = d.u32le("fileSizeHigh");
    const low = d.u32le("fileSizeLow");
    const name = decodeUtf16z(d.bytesView(520, "fileName"));
    const size = flags & FD_FILESIZE && high < 0x200000 ? high * 0x100000000 + low : null;
    files.push({ name, size, directory: (attributes & FILE_ATTRIBUTE_DIRECTORY) !== 0 });
  }
  return files;
}
