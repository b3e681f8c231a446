/** X.224 class 0 TPDUs as used by RDP (MS-RDPBCGR 2.2.1.1, 2.2.1.2; X.224 13.3, 13.4, 13.5, 13.7). */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter } from "./reader.ts";
import { encodeTpkt, parseTpkt } from "./tpkt.ts";

export const X224_CR = 0xe0;
export const X224_CC = 0xd0;
export const X224_DR = 0x80;
export const X224_DT = 0xf0;

export const PROTOCOL_RDP = 0x0;
export const PROTOCOL_SSL = 0x1;
export const PROTOCOL_HYBRID = 0x2;
export const PROTOCOL_RDSTLS = 0x4;
export const PROTOCOL_HYBRID_EX = 0x8;
export const PROTOCOL_RDSAAD = 0x10;

export const RESTRICTED_ADMIN_MODE_REQUIRED = 0x01;
export const REDIRECTED_AUTHENTICATION_MODE_REQUIRED = 0x02;
export const CORRELATION_INFO_PRESENT = 0x08;

export const SSL_REQUIRED_BY_SERVER = 1;
export const SSL_NOT_ALLOWED_BY_SERVER = 2;
export const SSL_CERT_NOT_ON_SERVER = 3;
export const INCONSISTENT_FLAGS = 4;
export const HYBRID_REQUIRED_BY_SERVER = 5;
export const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER = 6;

const TYPE_RDP_NEG_REQ = 0x01;
const TYPE_RDP_NEG_RSP = 0x02;
const TYPE_RDP_NEG_FAILURE = 0x03;
const TYPE_RDP_CORRELATION_INFO = 0x06;

/** The X.224 type of a whole TPKT frame (high nibble of the TPDU code). */
export function x224Type(frame: Uint8Array): number {
  const { payload } = parseTpkt(frame);
  const r = new ByteReader(payload, "x224");
  const li = r.u8("length indicator");
  ensure(li + 1 <= payload.length, "length_mismatch", `x224: length indicator ${li} exceeds TPDU`);
  return r.u8("code") & 0xf0;
}

export interface ConnectionRequest {
  dstRef: number;
  srcRef: number;
  classOptions: number;
  /** Raw token/cookie line without the CRLF (latin1 text); null if absent. */
  tokenLine: Uint8Array | null;
  /** The mstshash value when the line is `Cookie: mstshash=...`. A username hint only. */
  cookie: string | null;
  /** The whole line when it is not an mstshash cookie (e.g. `Cookie: msts=...`, `tsv://...`). */
  routingToken: string | null;
  negReq: { flags: number; requestedProtocols: number } | null;
  correlationInfo: { correlationId: Uint8Array; reserved: Uint8Array } | null;
}

const latin1 = new TextDecoder("latin1");

export function parseConnectionRequest(frame: Uint8Array): ConnectionRequest {
  const { payload } = parseTpkt(frame);
  ensure(payload.length >= 7, "truncated", "x224 CR: shorter than 7 bytes");
  const r = new ByteReader(payload, "x224 CR");
  ensure(r.u8("length indicator") === payload.length - 1, "length_mismatch", "x224 CR: length indicator");
  ensure((r.u8("code") & 0xf0) === X224_CR, "invalid", "x224 CR: not a Connection Request");
  const dstRef = r.u16be("dst-ref");
  const srcRef = r.u16be("src-ref");
  const classOptions = r.u8("class");
  ensure((classOptions & 0xf0) === 0, "invalid", "x224 CR: not class 0");
  const body = r.rest();
  let tokenLine: Uint8Array | null = null;
  let at = 0;
  if (!looksLikeNegReq(body)) {
    const crlf = findCrlf(body);
    ensure(crlf >= 0, "invalid", "x224 CR: routing token/cookie without CRLF terminator");
    tokenLine = body.slice(0, crlf);
    at = crlf + 2;
  }
  const tail = new ByteReader(body.subarray(at), "x224 CR");
  let negReq: ConnectionRequest["negReq"] = null;
  let correlationInfo: ConnectionRequest["correlationInfo"] = null;
  if (tail.remaining > 0) {
    ensure(tail.u8("type") === TYPE_RDP_NEG_REQ, "invalid", "x224 CR: expected RDP_NEG_REQ");
    const flags = tail.u8("flags");
    ensure(tail.u16le("length") === 8, "invalid", "x224 CR: RDP_NEG_REQ length is not 8");
    negReq = { flags, requestedProtocols: tail.u32le("requestedProtocols") };
    if (flags & CORRELATION_INFO_PRESENT) {
      ensure(tail.u8("type") === TYPE_RDP_CORRELATION_INFO, "invalid", "x224 CR: expected correlation info");
      ensure(tail.u8("flags") === 0, "invalid", "x224 CR: correlation info flags");
      ensure(tail.u16le("length") === 36, "invalid", "x224 CR: correlation info length is not 36");
      correlationInfo = {
        correlationId: tail.take(16, "correlationId"),
        reserved: tail.take(16, "reserved"),
      };
    }
  }
  tail.expectEnd("RDP_NEG_REQ");
  const text = tokenLine ? latin1.decode(tokenLine) : null;
  const m = text ? /^Cookie: mstshash=(.*)$/.exec(text) : null;
  return {
    dstRef,
    srcRef,
    classOptions,
    tokenLine,
    cookie: m ? m[1] : null,
    routingToken: text !== null && !m ? text : null,
    negReq,
    correlationInfo,
  };
}

/** A CR with no token whose body is exactly a NEG_REQ (optionally + correlation info). */
function looksLikeNegReq(b: Uint8Array): boolean {
  if (b.length === 0) return true;
  return b[0] === TYPE_RDP_NEG_REQ && (b.length === 8 || b.length === 44) && b[2] === 8 && b[3] === 0;
}

function findCrlf(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0x0d && b[i + 1] === 0x0a) return i;
  return -1;
}

export function encodeConnectionRequest(cr: ConnectionRequest): Uint8Array {
  const w = new ByteWriter(64);
  if (cr.tokenLine) {
    ensure(findCrlf(cr.tokenLine) < 0, "invalid", "x224 CR: token line contains CRLF");
    w.bytes(cr.tokenLine).u8(0x0d).u8(0x0a);
  }
  if (cr.negReq) {
    const wantCorr = cr.correlationInfo !== null;
    ensure(
      wantCorr === ((cr.negReq.flags & CORRELATION_INFO_PRESENT) !== 0),
      "invalid",
      "x224 CR: CORRELATION_INFO_PRESENT flag disagrees with correlationInfo",
    );
    w.u8(TYPE_RDP_NEG_REQ).u8(cr.negReq.flags).u16le(8).u32le(cr.negReq.requestedProtocols);
    if (cr.correlationInfo) {
      const { correlationId, reserved } = cr.correlationInfo;
      ensure(correlationId.length === 16 && reserved.length === 16, "invalid", "x224 CR: correlation sizes");
      w.u8(TYPE_RDP_CORRELATION_INFO).u8(0).u16le(36).bytes(correlationId).bytes(reserved);
    }
  } else {
    ensure(cr.correlationInfo === null, "invalid", "x224 CR: correlation info without RDP_NEG_REQ");
  }
  return encodeX224Fixed(X224_CR, cr.dstRef, cr.srcRef, cr.classOptions, w.finish());
}

/** Convenience for the proxy: same CR with requestedProtocols replaced. */
export function rewriteConnectionRequest(frame: Uint8Array, requestedProtocols: number): Uint8Array {
  const cr = parseConnectionRequest(frame);
  ensure(cr.negReq !== null, "invalid", "x224 CR: no RDP_NEG_REQ to rewrite (legacy RDP-security client)");
  return encodeConnectionRequest({ ...cr, negReq: { ...cr.negReq, requestedProtocols } });
}

export type NegotiationResult =
  | { type: "response"; flags: number; selectedProtocol: number }
  | { type: "failure"; failureCode: number; flags?: number };

export interface ConnectionConfirm {
  dstRef: number;
  srcRef: number;
  classOptions: number;
  /** null: legacy server sent no negotiation data (standard RDP security). */
  negotiation: NegotiationResult | null;
}

export function parseConnectionConfirm(frame: Uint8Array): ConnectionConfirm {
  const { payload } = parseTpkt(frame);
  ensure(payload.length >= 7, "truncated", "x224 CC: shorter than 7 bytes");
  const r = new ByteReader(payload, "x224 CC");
  ensure(r.u8("length indicator") === payload.length - 1, "length_mismatch", "x224 CC: length indicator");
  ensure((r.u8("code") & 0xf0) === X224_CC, "invalid", "x224 CC: not a Connection Confirm");
  const dstRef = r.u16be("dst-ref");
  const srcRef = r.u16be("src-ref");
  const classOptions = r.u8("class");
  let negotiation: NegotiationResult | null = null;
  if (r.remaining > 0) {
    const type = r.u8("type");
    const flags = r.u8("flags");
    ensure(r.u16le("length") === 8, "invalid", "x224 CC: negotiation length is not 8");
    const value = r.u32le("value");
    if (type === TYPE_RDP_NEG_RSP) negotiation = { type: "response", flags, selectedProtocol: value };
    else if (type === TYPE_RDP_NEG_FAILURE) negotiation = { type: "failure", failureCode: value, flags };
    else ensure(false, "invalid", `x224 CC: unknown negotiation type ${type}`);
  }
  r.expectEnd("RDP_NEG_RSP");
  return { dstRef, srcRef, classOptions, negotiation };
}

export function encodeConnectionConfirm(cc: ConnectionConfirm): Uint8Array {
  const w = new ByteWriter(8);
  const n = cc.negotiation;
  if (n?.type === "response") w.u8(TYPE_RDP_NEG_RSP).u8(n.flags).u16le(8).u32le(n.selectedProtocol);
  else if (n?.type === "failure") w.u8(TYPE_RDP_NEG_FAILURE).u8(n.flags ?? 0).u16le(8).u32le(n.failureCode);
  return encodeX224Fixed(X224_CC, cc.dstRef, cc.srcRef, cc.classOptions, w.finish());
}

function encodeX224Fixed(code: number, dst: number, src: number, cls: number, body: Uint8Array): Uint8Array {
  const li = 6 + body.length;
  ensure(li <= 0xfe, "too_large", "x224: variable part too long for the length indicator");
  const w = new ByteWriter(li + 1).u8(li).u8(code).u16be(dst).u16be(src).u8(cls).bytes(body);
  return encodeTpkt(w.finish());
}

/** Strip TPKT + X.224 Data TPDU header (02 f0 80); returns the MCS PDU (a view). */
export function parseX224Data(frame: Uint8Array): Uint8Array {
  const { payload } = parseTpkt(frame);
  const r = new ByteReader(payload, "x224 DT");
  ensure(r.u8("length indicator") === 2, "invalid", "x224 DT: length indicator is not 2");
  ensure(r.u8("code") === X224_DT, "invalid", "x224 DT: not a class 0 Data TPDU");
  const eot = r.u8("eot");
  ensure((eot & 0x80) !== 0, "unsupported", "x224 DT: EOT not set (segmented TPDU)");
  ensure(eot === 0x80, "invalid", "x224 DT: TPDU-NR must be 0 in class 0");
  return r.rest();
}

export function encodeX224Data(mcs: Uint8Array): Uint8Array {
  const w = new ByteWriter(mcs.length + 3).u8(2).u8(X224_DT).u8(0x80).bytes(mcs);
  return encodeTpkt(w.finish());
}

export interface DisconnectRequest {
  dstRef: number;
  srcRef: number;
  reason: number;
}

export function parseDisconnectRequest(frame: Uint8Array): DisconnectRequest {
  const { payload } = parseTpkt(frame);
  const r = new ByteReader(payload, "x224 DR");
  const li = r.u8("length indicator");
  ensure(li === payload.length - 1 && li >= 6, "length_mismatch", "x224 DR: length indicator");
  ensure((r.u8("code") & 0xf0) === X224_DR, "invalid", "x224 DR: not a Disconnect Request");
  // Variable part (parameters) after the reason is allowed by X.224 and ignored.
  return { dstRef: r.u16be("dst-ref"), srcRef: r.u16be("src-ref"), reason: r.u8("reason") };
}

export function encodeDisconnectRequest(dr: DisconnectRequest): Uint8Array {
  return encodeTpkt(
    new ByteWriter(7).u8(6).u8(X224_DR).u16be(dr.dstRef).u16be(dr.srcRef).u8(dr.reason).finish(),
  );
}
