/**
 * MS-NLMP 2.2.1 NTLM messages (NEGOTIATE, CHALLENGE, AUTHENTICATE), 2.2.2.1 AV pairs, 2.2.2.10
 * VERSION and 2.2.2.7 NTLMv2_CLIENT_CHALLENGE. Decoders check every offset/length against the
 * message; they throw only RdpParseError.
 */
import { ensure } from "../pdu/errors.ts";
import { ByteReader, ByteWriter, concat } from "../pdu/reader.ts";
import { fromUtf16le, utf16le } from "./crypto.ts";

export const NTLMSSP_SIGNATURE = new TextEncoder().encode("NTLMSSP\0");

export const NEGOTIATE_UNICODE = 0x00000001;
export const NEGOTIATE_OEM = 0x00000002;
export const REQUEST_TARGET = 0x00000004;
export const NEGOTIATE_SIGN = 0x00000010;
export const NEGOTIATE_SEAL = 0x00000020;
export const NEGOTIATE_LM_KEY = 0x00000080;
export const NEGOTIATE_NTLM = 0x00000200;
export const NEGOTIATE_ANONYMOUS = 0x00000800;
export const NEGOTIATE_ALWAYS_SIGN = 0x00008000;
export const TARGET_TYPE_DOMAIN = 0x00010000;
export const TARGET_TYPE_SERVER = 0x00020000;
export const NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x00080000;
export const NEGOTIATE_TARGET_INFO = 0x00800000;
export const NEGOTIATE_VERSION = 0x02000000;
export const NEGOTIATE_128 = 0x20000000;
export const NEGOTIATE_KEY_EXCH = 0x40000000;
export const NEGOTIATE_56 = 0x80000000;

export const AV_EOL = 0;
export const AV_NB_COMPUTER_NAME = 1;
export const AV_NB_DOMAIN_NAME = 2;
export const AV_DNS_COMPUTER_NAME = 3;
export const AV_DNS_DOMAIN_NAME = 4;
export const AV_DNS_TREE_NAME = 5;
export const AV_FLAGS = 6;
export const AV_TIMESTAMP = 7;
export const AV_SINGLE_HOST = 8;
export const AV_TARGET_NAME = 9;
export const AV_CHANNEL_BINDINGS = 10;
/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
export const AV_FLAG_MIC_PRESENT = 0x2;

/** Hard bound on an NTLM message (they are a few hundred bytes). */
export const NTLM_MAX_MESSAGE = 64 * 1024;

export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
  /** NTLMSSP_REVISION_W2K3 = 15. */
  revision: number;
}
/** What we announce (Windows 10 style version, NTLM revision 15). */
export const OUR_VERSION: NtlmVersion = { major: 10, minor: 0, build: 19041, revision: 15 };

export interface AvPair {
  id: number;
  value: Uint8Array;
}

export interface NegotiateMessage {
  flags: number;
  domain: Uint8Array;
  workstation: Uint8Array;
  version: NtlmVersion | null;
}

export interface ChallengeMessage {
  flags: number;
  targetName: Uint8Array;
  serverChallenge: Uint8Array;
  /** Raw AV pair list (TargetInfo) as sent. */
  targetInfo: Uint8Array;
  version: NtlmVersion | null;
}

export interface AuthenticateMessage {
  flags: number;
  lmResponse: Uint8Array;
  ntResponse: Uint8Array;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Uint8Array;
  version: NtlmVersion | null;
  /** The 16 bytes at offset 72 when the payload leaves room for them (whether a MIC is meant is
   *  told by MsvAvFlags in the NTLMv2 response). */
  micField: Uint8Array | null;
}

function header(r: ByteReader, type: number): void {
  const sig = r.bytesView(8, "signature");
  ensure(sig.every((b, i) => b === NTLMSSP_SIGNATURE[i]), "invalid", "ntlm: bad signature");
  const t = r.u32le("message type");
  ensure(t === type, "invalid", `ntlm: message type ${t}, expected ${type}`);
}

/** A (len, maxLen, offset) field; returns a view into the message. */
function field(r: ByteReader, msg: Uint8Array, what: string, minOffset: number): Uint8Array {
  const len = r.u16le(`${what} len`);
  r.u16le(`${what} maxLen`);
  const off = r.u32le(`${what} offset`);
  if (len === 0) return new Uint8Array(0);
  ensure(off >= minOffset && off + len <= msg.length, "length_mismatch", `ntlm: ${what} outside the message`);
  return msg.subarray(off, off + len);
}

function readVersion(r: ByteReader): NtlmVersion {
  const major = r.u8("version major"), minor = r.u8("version minor"), build = r.u16le("version build");
  r.skip(3, "version reserved");
  return { major, minor, build, revision: r.u8("version revision") };
}
function writeVersion(w: ByteWriter, v: NtlmVersion | null): void {
  if (!v) return void w.zeros(8);
  w.u8(v.major).u8(v.minor).u16le(v.build).zeros(3).u8(v.revision);
}

function checkSize(msg: Uint8Array): void {
  ensure(msg.length <= NTLM_MAX_MESSAGE, "too_large", `ntlm: message of ${msg.length} bytes`);
}

export function parseNegotiate(msg: Uint8Array): NegotiateMessage {
  checkSize(msg);
  const r = new ByteReader(msg, "NTLM NEGOTIATE");
  header(r, 1);
  const flags = r.u32le("flags");
  // Version 1 clients stop after the flags; the fields are then absent.
  const domain = r.remaining >= 8 ? field(r, msg, "domain", 16) : new Uint8Array(0);
  const workstation = r.remaining >= 8 ? field(r, msg, "workstation", 16) : new Uint8Array(0);
  const version = flags & NEGOTIATE_VERSION && r.remaining >= 8 ? readVersion(r) : null;
  return { flags, domain, workstation, version };
}

export function encodeNegotiate(m: NegotiateMessage): Uint8Array {
  const base = 40;
  const w = new ByteWriter(64);
  w.bytes(NTLMSSP_SIGNATURE).u32le(1).u32le(m.flags >>> 0);
  w.u16le(m.domain.length).u16le(m.domain.length).u32le(base);
  w.u16le(m.workstation.length).u16le(m.workstation.length).u32le(base + m.domain.length);
  writeVersion(w, m.version);
  return concat(w.finish(), m.domain, m.workstation);
}

export function parseChallenge(msg: Uint8Array): ChallengeMessage {
  checkSize(msg);
  const r = new ByteReader(msg, "NTLM CHALLENGE");
  header(r, 2);
  const targetName = field(r, msg, "targetName", 32);
  const flags = r.u32le("flags");
  const serverChallenge = r.take(8, "serverChallenge");
  r.skip(8, "reserved");
  const targetInfo = r.remaining >= 8 ? field(r, msg, "targetInfo", 48) : new Uint8Array(0);
  const version = flags & NEGOTIATE_VERSION && r.remaining >= 8 ? readVersion(r) : null;
  parseAvPairs(targetInfo); // validate now, so later users never see a broken list
  return { flags, targetName, serverChallenge, targetInfo, version };
}

export function encodeChallenge(m: ChallengeMessage): Uint8Array {
  ensure(m.serverChallenge.length === 8, "invalid", "ntlm: server challenge must be 8 bytes");
  const base = 56;
  const w = new ByteWriter(64);
  w.bytes(NTLMSSP_SIGNATURE).u32le(2);
  w.u16le(m.targetName.length).u16le(m.targetName.length).u32le(base);
  w.u32le(m.flags >>> 0).bytes(m.serverChallenge).zeros(8);
  w.u16le(m.targetInfo.length).u16le(m.targetInfo.length).u32le(base + m.targetName.length);
  writeVersion(w, m.version);
  return concat(w.finish(), m.targetName, m.targetInfo);
}

export const AUTHENTICATE_MIC_OFFSET = 72;

export function parseAuthenticate(msg: Uint8Array): AuthenticateMessage {
  checkSize(msg);
  const r = new ByteReader(msg, "NTLM AUTHENTICATE");
  header(r, 3);
  const lmResponse = field(r, msg, "lmResponse", 64);
  const ntResponse = field(r, msg, "ntResponse", 64);
  const domainB = field(r, msg, "domain", 64);
  const userB = field(r, msg, "user", 64);
  const wsB = field(r, msg, "workstation", 64);
  const encryptedRandomSessionKey = field(r, msg, "encryptedRandomSessionKey", 64);
  const flags = r.u32le("flags");
  const version = flags & NEGOTIATE_VERSION ? readVersion(r) : null;
  // The payload starts at the lowest non-empty field offset; a MIC fits if that is at or after 88.
  const offsets = [lmResponse, ntResponse, domainB, userB, wsB, encryptedRandomSessionKey]
    .filter((b) => b.length > 0)
    .map((b) => b.byteOffset - msg.byteOffset);
  const payloadStart = offsets.length ? Math.min(...offsets) : msg.length;
  const micField = payloadStart >= AUTHENTICATE_MIC_OFFSET + 16 && msg.length >= AUTHENTICATE_MIC_OFFSET + 16
    ? msg.slice(AUTHENTICATE_MIC_OFFSET, AUTHENTICATE_MIC_OFFSET + 16)
    : null;
  const text = (b: Uint8Array, what: string) => {
    if (flags & NEGOTIATE_UNICODE) {
      ensure(b.length % 2 === 0, "invalid", `ntlm: odd-length UTF-16 ${what}`);
      return fromUtf16le(b);
    }
    return new TextDecoder("latin1").decode(b);
  };
  ensure(
    encryptedRandomSessionKey.length === 0 || encryptedRandomSessionKey.length === 16,
    "invalid",
    "ntlm: session key length",
  );
  return {
    flags,
    lmResponse,
    ntResponse,
    domain: text(domainB, "domain"),
    user: text(userB, "user"),
    workstation: text(wsB, "workstation"),
    encryptedRandomSessionKey,
    version,
    micField,
  };
}

/** AUTHENTICATE with Version and a MIC slot (zeros; patched by the caller once computed). */
export function encodeAuthenticate(m: Omit<AuthenticateMessage, "micField">): Uint8Array {
  const strings = [utf16le(m.domain), utf16le(m.user), utf16le(m.workstation)];
  const payload = [m.lmResponse, m.ntResponse, ...strings, m.encryptedRandomSessionKey];
  let off = AUTHENTICATE_MIC_OFFSET + 16;
  const w = new ByteWriter(128);
  w.bytes(NTLMSSP_SIGNATURE).u32le(3);
  for (const p of payload) {
    w.u16le(p.length).u16le(p.length).u32le(off);
    off += p.length;
  }
  w.u32le(m.flags >>> 0);
  writeVersion(w, m.version ?? OUR_VERSION);
  w.zeros(16);
  return concat(w.finish(), ...payload);
}

export function parseAvPairs(b: Uint8Array): AvPair[] {
  const r = new ByteReader(b, "AV pairs");
  const out: AvPair[] = [];
  while (r.remaining > 0) {
    const id = r.u16le("AvId");
    const len = r.u16le("AvLen");
    const value = r.bytesView(len, "AV value");
    if (id === AV_EOL) return out; // bytes after MsvAvEOL are padding
    ensure(out.length < 64, "too_large", "ntlm: more than 64 AV pairs");
    out.push({ id, value });
  }
  // Some peers omit MsvAvEOL at the very end; an empty list is also tolerated.
  return out;
}

export function encodeAvPairs(pairs: AvPair[]): Uint8Array {
  const w = new ByteWriter(128);
  for (const p of pairs) w.u16le(p.id).u16le(p.value.length).bytes(p.value);
  w.u16le(AV_EOL).u16le(0);
  return w.finish();
}

export function avValue(pairs: AvPair[], id: number): Uint8Array | null {
  return pairs.find((p) => p.id === id)?.value ?? null;
}

/** NTLMv2_CLIENT_CHALLENGE (the "temp" of 3.3.2), following the 16-byte NTProofStr. */
export interface NtlmV2ClientChallenge {
  timestamp: Uint8Array;
  clientChallenge: Uint8Array;
  avPairs: AvPair[];
}

export function parseNtlmV2ClientChallenge(temp: Uint8Array): NtlmV2ClientChallenge {
  const r = new ByteReader(temp, "NTLMv2_CLIENT_CHALLENGE");
  const resp = r.u8("RespType"), hi = r.u8("HiRespType");
  ensure(resp === 1 && hi === 1, "unsupported", `ntlm: NTLMv2 response type ${resp}/${hi}`);
  r.skip(6, "reserved");
  const timestamp = r.take(8, "timestamp");
  const clientChallenge = r.take(8, "clientChallenge");
  r.skip(4, "reserved");
  return { timestamp, clientChallenge, avPairs: parseAvPairs(r.rest()) };
}
