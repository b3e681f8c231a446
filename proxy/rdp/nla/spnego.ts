/**
 * SPNEGO (RFC 4178, MS-SPNG) tokens as CredSSP carries them: the initiator's first token is a GSS-API
 * InitialContextToken holding NegTokenInit, later tokens are bare NegTokenResp ([1]).
 *
 *   NegTokenInit ::= SEQUENCE { mechTypes [0] SEQUENCE OF OID, reqFlags [1] BIT STRING OPTIONAL,
 *     mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
 *   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] OID OPTIONAL,
 *     responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
 */
import { ensure } from "../pdu/errors.ts";
import { ByteReader } from "../pdu/reader.ts";
import {
  children,
  ctxTag,
  expectTag,
  explicit,
  integer,
  octetString,
  oid,
  parseTlv,
  readOctets,
  readTlv,
  readUint32,
  sequence,
  TAG_APPLICATION_0,
  TAG_ENUMERATED,
  TAG_OID,
  TAG_SEQUENCE,
  taggedFields,
  tlv,
} from "./der.ts";

/** Full DER encodings (tag, length, value) of the OIDs involved. */
export const OID_SPNEGO = oid("1.3.6.1.5.5.2");
export const OID_NTLMSSP = oid("1.3.6.1.4.1.311.2.2.10");

export const NEG_STATE_ACCEPT_COMPLETED = 0;
export const NEG_STATE_ACCEPT_INCOMPLETE = 1;
export const NEG_STATE_REJECT = 2;
export const NEG_STATE_REQUEST_MIC = 3;

export interface NegTokenInit {
  /** Full DER encodings of each mechanism OID, in the initiator's order of preference. */
  mechTypes: Uint8Array[];
  /** The DER of the MechTypeList SEQUENCE exactly as received: what mechListMIC signs. */
  mechTypesRaw: Uint8Array;
  mechToken: Uint8Array | null;
  mechListMIC: Uint8Array | null;
}

export interface NegTokenResp {
  negState: number | null;
  supportedMech: Uint8Array | null;
  responseToken: Uint8Array | null;
  mechListMIC: Uint8Array | null;
}

/** An NTLMSSP message starts with this signature; anything starting 0x60/0xa1 is SPNEGO. */
export function isRawNtlm(token: Uint8Array): boolean {
  return token.length >= 8 && new TextDecoder().decode(token.subarray(0, 8)) === "NTLMSSP\0";
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function parseNegTokenInit(bytes: Uint8Array): NegTokenInit {
  const app = parseTlv(bytes, TAG_APPLICATION_0, "InitialContextToken");
  const r = new ByteReader(app.content, "InitialContextToken");
  const mech = readTlv(r, "thisMech");
  expectTag(mech, TAG_OID, "thisMech");
  ensure(sameBytes(mech.raw, OID_SPNEGO), "unsupported", "InitialContextToken is not SPNEGO");
  const choice = readTlv(r, "NegotiationToken");
  r.expectEnd("InitialContextToken");
  expectTag(choice, ctxTag(0), "negTokenInit");
  const inner = children(choice, "negTokenInit");
  ensure(inner.length === 1, "invalid", "negTokenInit holds more than one value");
  const f = taggedFields(inner[0], "NegTokenInit");
  const list = f.get(0);
  ensure(list !== undefined, "invalid", "NegTokenInit: no mechTypes");
  expectTag(list, TAG_SEQUENCE, "mechTypes");
  const mechTypes = children(list, "mechTypes").map((m) => {
    expectTag(m, TAG_OID, "mechType");
    return m.raw;
  });
  const tok = f.get(2), mic = f.get(3);
  return {
    mechTypes,
    mechTypesRaw: list.raw,
    mechToken: tok ? readOctets(tok, "mechToken") : null,
    mechListMIC: mic ? readOctets(mic, "mechListMIC") : null,
  };
}

export function encodeNegTokenInit(mechTypes: Uint8Array[], mechToken: Uint8Array | null): Uint8Array {
  const fields = [explicit(0, sequence(...mechTypes))];
  if (mechToken) fields.push(explicit(2, octetString(mechToken)));
  return tlv(TAG_APPLICATION_0, OID_SPNEGO, explicit(0, sequence(...fields)));
}

/** The MechTypeList DER our own NegTokenInit carries (for mechListMIC on the initiator side). */
export function mechTypeList(mechTypes: Uint8Array[]): Uint8Array {
  return sequence(...mechTypes);
}

export function parseNegTokenResp(bytes: Uint8Array): NegTokenResp {
  const choice = parseTlv(bytes, ctxTag(1), "negTokenResp");
  const inner = children(choice, "negTokenResp");
  ensure(inner.length === 1, "invalid", "negTokenResp holds more than one value");
  const f = taggedFields(inner[0], "NegTokenResp");
  const st = f.get(0), mech = f.get(1), tok = f.get(2), mic = f.get(3);
  if (mech) expectTag(mech, TAG_OID, "supportedMech");
  return {
    negState: st ? readUint32(st, "negState", TAG_ENUMERATED) : null,
    supportedMech: mech ? mech.raw : null,
    responseToken: tok ? readOctets(tok, "responseToken") : null,
    mechListMIC: mic ? readOctets(mic, "mechListMIC") : null,
  };
}

export function encodeNegTokenResp(t: NegTokenResp): Uint8Array {
  const fields: Uint8Array[] = [];
  if (t.negState !== null) fields.push(explicit(0, integer(t.negState, TAG_ENUMERATED)));
  if (t.supportedMech) fields.push(explicit(1, t.supportedMech));
  if (t.responseToken) fields.push(explicit(2, octetString(t.responseToken)));
  if (t.mechListMIC) fields.push(explicit(3, octetString(t.mechListMIC)));
  return tlv(ctxTag(1), sequence(...fields));
}
