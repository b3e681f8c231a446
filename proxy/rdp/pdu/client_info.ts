/**
 * Client Info PDU (MS-RDPBCGR 2.2.1.11): security header + TS_INFO_PACKET. The password is never
 * decoded or returned; only whether one is present.
 */
import { ensure } from "./errors.ts";
import { parseMcsFrame, replaceSendDataUserData } from "./mcs_domain.ts";
import {
  ByteReader,
  ByteWriter,
  concat,
  decodeAsciiz,
  decodeUtf16z,
  encodeUtf16,
  patchU32le,
} from "./reader.ts";
import { parseSecurityHeader, SEC_INFO_PKT } from "./share.ts";

export const INFO_MOUSE = 0x1;
export const INFO_AUTOLOGON = 0x8;
export const INFO_UNICODE = 0x10;
export const INFO_LOGONNOTIFY = 0x40;
export const INFO_COMPRESSION = 0x80;
export const INFO_COMPRESSION_TYPE_MASK = 0x1e00;
export const INFO_RAIL = 0x8000;

/** Byte offset of TS_INFO_PACKET.flags inside the userData (4-byte security header + CodePage). */
const FLAGS_OFFSET = 8;

export interface ClientInfo {
  securityFlags: number;
  securityFlagsHi: number;
  codePage: number;
  flags: number;
  domain: string;
  userName: string;
  /** cbPassword > 0. The password itself is deliberately not exposed. */
  passwordPresent: boolean;
  alternateShell: string;
  workingDir: string;
  extended: ExtendedInfo | null;
}

export interface ExtendedInfo {
  clientAddressFamily: number;
  clientAddress: string;
  clientDir: string;
  clientSessionId?: number;
  performanceFlags?: number;
  /** ARC_CS_PRIVATE_PACKET.LogonId when the client presents an auto-reconnect cookie. */
  autoReconnectLogonId?: number;
}

function readString(r: ByteReader, cb: number, unicode: boolean, what: string): string {
  ensure(!unicode || cb % 2 === 0, "invalid", `client info: odd ${what} length`);
  const raw = r.bytesView(cb, what);
  r.skip(unicode ? 2 : 1, `${what} terminator`);
  return unicode ? decodeUtf16z(raw) : decodeAsciiz(raw);
}

/** Parse MCS Send Data Request userData holding the Client Info PDU. */
export function parseClientInfo(userData: Uint8Array): ClientInfo {
  const sec = parseSecurityHeader(userData);
  ensure((sec.flags & SEC_INFO_PKT) !== 0, "invalid", "client info: SEC_INFO_PKT not set");
  const r = new ByteReader(sec.body, "client info");
  const codePage = r.u32le("CodePage");
  const flags = r.u32le("flags");
  const unicode = (flags & INFO_UNICODE) !== 0;
  const cbDomain = r.u16le("cbDomain");
  const cbUserName = r.u16le("cbUserName");
  const cbPassword = r.u16le("cbPassword");
  const cbAlternateShell = r.u16le("cbAlternateShell");
  const cbWorkingDir = r.u16le("cbWorkingDir");
  const domain = readString(r, cbDomain, unicode, "Domain");
  const userName = readString(r, cbUserName, unicode, "UserName");
  r.skip(cbPassword + (unicode ? 2 : 1), "Password");
  const alternateShell = readString(r, cbAlternateShell, unicode, "AlternateShell");
  const workingDir = readString(r, cbWorkingDir, unicode, "WorkingDir");
  const extended = r.remaining > 0 ? parseExtendedInfo(r) : null;
  return {
    securityFlags: sec.flags,
    securityFlagsHi: sec.flagsHi,
    codePage,
    flags,
    domain,
    userName,
    passwordPresent: cbPassword > 0,
    alternateShell,
    workingDir,
    extended,
  };
}

/** TS_EXTENDED_INFO_PACKET (2.2.1.11.1.1.1); its strings are always UTF-16. Later fields optional. */
function parseExtendedInfo(r: ByteReader): ExtendedInfo {
  const clientAddressFamily = r.u16le("clientAddressFamily");
  const clientAddress = decodeUtf16z(r.bytesView(r.u16le("cbClientAddress"), "clientAddress"));
  const clientDir = decodeUtf16z(r.bytesView(r.u16le("cbClientDir"), "clientDir"));
  const ext: ExtendedInfo = { clientAddressFamily, clientAddress, clientDir };
  if (r.remaining < 172 + 8) return ext;
  r.skip(172, "clientTimeZone");
  ext.clientSessionId = r.u32le("clientSessionId");
  ext.performanceFlags = r.u32le("performanceFlags");
  if (r.remaining < 2) return ext;
  const cbCookie = r.u16le("cbAutoReconnectCookie");
  if (cbCookie > 0) {
    const arc = r.sub(cbCookie, "autoReconnectCookie");
    ensure(
      cbCookie === 28 && arc.u32le("cbLen") === 28,
      "invalid",
      "client info: auto-reconnect cookie size",
    );
    arc.u32le("Version");
    ext.autoReconnectLogonId = arc.u32le("LogonId");
  }
  return ext; // reserved fields and dynamic DST name are not needed
}

/**
 * Clear INFO_COMPRESSION and CompressionTypeMask so the server never bulk-compresses; every other
 * byte stays identical. Takes and returns the userData.
 */
export function rewriteClientInfo(userData: Uint8Array): Uint8Array {
  const info = parseClientInfo(userData);
  const out = userData.slice();
  patchU32le(out, FLAGS_OFFSET, (info.flags & ~(INFO_COMPRESSION | INFO_COMPRESSION_TYPE_MASK)) >>> 0);
  return out;
}

/** The logon the backend should see in the Client Info instead of what the client typed. */
export interface ClientInfoLogon {
  domain: string;
  userName: string;
  /** "" sends no password and clears INFO_AUTOLOGON (the backend prompts or uses its NLA logon). */
  password: string;
}

/** MS-RDPBCGR 2.2.1.11.1.1: limits of the Unicode fields in bytes, terminator excluded. */
const MAX_DOMAIN = 512;
const MAX_USER = 512;
const MAX_PASSWORD = 512;

/**
 * Replace Domain, UserName and Password (setting INFO_AUTOLOGON exactly when a password is given),
 * and clear compression like rewriteClientInfo(). Every other field (shell, working dir, extended
 * info) is carried over byte for byte. Takes and returns the userData.
 */
export function rewriteClientInfoLogon(userData: Uint8Array, logon: ClientInfoLogon): Uint8Array {
  const info = parseClientInfo(userData); // validates the whole packet first
  const unicode = (info.flags & INFO_UNICODE) !== 0;
  const body = parseSecurityHeader(userData).body;
  const r = new ByteReader(body, "client info");
  r.skip(8, "CodePage, flags");
  const term = unicode ? 2 : 1;
  const replaced = r.u16le() + r.u16le() + r.u16le() + 3 * term; // Domain, UserName, Password
  const cbShellAndDir = body.subarray(14, 18);
  const rest = body.subarray(18 + replaced); // AlternateShell, WorkingDir, extended info: unchanged
  const encode = (text: string, max: number, what: string) => {
    const b = unicode ? encodeUtf16(text) : encodeLatin1(text, what);
    ensure(b.length <= max, "too_large", `client info: ${what} longer than ${max} bytes`);
    return b;
  };
  const domain = encode(logon.domain, MAX_DOMAIN, "Domain");
  const user = encode(logon.userName, MAX_USER, "UserName");
  const password = encode(logon.password, MAX_PASSWORD, "Password");
  let flags = info.flags & ~(INFO_COMPRESSION | INFO_COMPRESSION_TYPE_MASK);
  flags = logon.password ? flags | INFO_AUTOLOGON : flags & ~INFO_AUTOLOGON;
  const nul = new Uint8Array(term);
  const head = new ByteWriter(18)
    .u32le(info.codePage)
    .u32le(flags >>> 0)
    .u16le(domain.length)
    .u16le(user.length)
    .u16le(password.length)
    .finish();
  const secHeader = userData.subarray(0, userData.length - body.length);
  return concat(secHeader, head, cbShellAndDir, domain, nul, user, nul, password, nul, rest);
}

function encodeLatin1(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    ensure(c > 0 && c < 0x100, "unsupported", `client info: ${what} is not representable in ANSI`);
    out[i] = c;
  }
  return out;
}

/**
 * Frame-level form: TPKT/X.224/MCS SDrq around the Client Info PDU in, same frame rewritten out
 * (with `logon` replacing the credentials when given).
 */
export function rewriteClientInfoFrame(frame: Uint8Array, logon?: ClientInfoLogon): Uint8Array {
  const pdu = parseMcsFrame(frame);
  ensure(pdu.type === "sendDataRequest", "invalid", "client info: not an MCS Send Data Request");
  const userData = logon ? rewriteClientInfoLogon(pdu.userData, logon) : rewriteClientInfo(pdu.userData);
  return replaceSendDataUserData(frame, userData);
}
