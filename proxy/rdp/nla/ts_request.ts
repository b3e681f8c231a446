/**
 * MS-CSSP 2.2.1 TSRequest and 2.2.1.2 TSCredentials / TSPasswordCreds, DER-encoded.
 *
 *   TSRequest ::= SEQUENCE { version [0] INTEGER, negoTokens [1] NegoData OPTIONAL,
 *     authInfo [2] OCTET STRING OPTIONAL, pubKeyAuth [3] OCTET STRING OPTIONAL,
 *     errorCode [4] INTEGER OPTIONAL, clientNonce [5] OCTET STRING OPTIONAL }
 *   NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
 */
import { ensure } from "../pdu/errors.ts";
import { fromUtf16le, utf16le } from "./crypto.ts";
import {
  children,
  explicit,
  integer,
  octetString,
  parseTlv,
  readOctets,
  readUint32,
  sequence,
  TAG_SEQUENCE,
  taggedFields,
} from "./der.ts";

export interface TsRequest {
  version: number;
  negoTokens: Uint8Array[];
  authInfo: Uint8Array | null;
  pubKeyAuth: Uint8Array | null;
  errorCode: number | null;
  clientNonce: Uint8Array | null;
}

export function tsRequest(fields: Partial<TsRequest> & { version: number }): TsRequest {
  return {
    negoTokens: [],
    authInfo: null,
    pubKeyAuth: null,
    errorCode: null,
    clientNonce: null,
    ...fields,
  };
}

export function parseTsRequest(bytes: Uint8Array): TsRequest {
  const f = taggedFields(parseTlv(bytes, TAG_SEQUENCE, "TSRequest"), "TSRequest");
  const v = f.get(0);
  ensure(v !== undefined, "invalid", "TSRequest: no version");
  const version = readUint32(v, "TSRequest.version");
  ensure(version >= 1 && version <= 255, "invalid", `TSRequest: version ${version}`);
  const negoTokens: Uint8Array[] = [];
  const nego = f.get(1);
  if (nego) {
    ensure(nego.tag === TAG_SEQUENCE, "invalid", "TSRequest.negoTokens is not a SEQUENCE");
    for (const item of children(nego, "NegoData")) {
      const inner = taggedFields(item, "NegoDataItem");
      const tok = inner.get(0);
      ensure(tok !== undefined, "invalid", "NegoDataItem: no negoToken");
      negoTokens.push(readOctets(tok, "negoToken"));
    }
  }
  const opt = (n: number, what: string) => {
    const t = f.get(n);
    return t ? readOctets(t, what) : null;
  };
  const err = f.get(4);
  const clientNonce = opt(5, "clientNonce");
  ensure(
    clientNonce === null || clientNonce.length === 32,
    "invalid",
    "TSRequest: clientNonce is not 32 bytes",
  );
  return {
    version,
    negoTokens,
    authInfo: opt(2, "authInfo"),
    pubKeyAuth: opt(3, "pubKeyAuth"),
    errorCode: err ? readUint32(err, "errorCode") : null,
    clientNonce,
  };
}

export function encodeTsRequest(req: TsRequest): Uint8Array {
  const parts = [explicit(0, integer(req.version))];
  if (req.negoTokens.length > 0) {
    parts.push(explicit(1, sequence(...req.negoTokens.map((t) => sequence(explicit(0, octetString(t)))))));
  }
  if (req.authInfo) parts.push(explicit(2, octetString(req.authInfo)));
  if (req.pubKeyAuth) parts.push(explicit(3, octetString(req.pubKeyAuth)));
  if (req.errorCode !== null) parts.push(explicit(4, integer(req.errorCode)));
  if (req.clientNonce) parts.push(explicit(5, octetString(req.clientNonce)));
  return sequence(...parts);
}

/** TSCredentials.credType values. */
export const CRED_TYPE_PASSWORD = 1;
export const CRED_TYPE_SMARTCARD = 2;
export const CRED_TYPE_REMOTE_GUARD = 6;

export interface TsCredentials {
  credType: number;
  credentials: Uint8Array;
}

export interface PasswordCredentials {
  domain: string;
  user: string;
  password: string;
}

export function parseTsCredentials(bytes: Uint8Array): TsCredentials {
  const f = taggedFields(parseTlv(bytes, TAG_SEQUENCE, "TSCredentials"), "TSCredentials");
  const t = f.get(0), c = f.get(1);
  ensure(t !== undefined && c !== undefined, "invalid", "TSCredentials: credType or credentials missing");
  return { credType: readUint32(t, "credType"), credentials: readOctets(c, "credentials") };
}

export function encodeTsCredentials(c: TsCredentials): Uint8Array {
  return sequence(explicit(0, integer(c.credType)), explicit(1, octetString(c.credentials)));
}

/** TSPasswordCreds: the three strings, UTF-16LE inside OCTET STRINGs (each may be empty). */
export function parsePasswordCreds(bytes: Uint8Array): PasswordCredentials {
  const f = taggedFields(parseTlv(bytes, TAG_SEQUENCE, "TSPasswordCreds"), "TSPasswordCreds");
  const s = (n: number, what: string) => {
    const t = f.get(n);
    ensure(t !== undefined, "invalid", `TSPasswordCreds: no ${what}`);
    const b = readOctets(t, what);
    ensure(b.length % 2 === 0, "invalid", `TSPasswordCreds: odd-length ${what}`);
    return fromUtf16le(b);
  };
  return { domain: s(0, "domainName"), user: s(1, "userName"), password: s(2, "password") };
}

export function encodePasswordCreds(c: PasswordCredentials): Uint8Array {
  return sequence(
    explicit(0, octetString(utf16le(c.domain))),
    explicit(1, octetString(utf16le(c.user))),
    explicit(2, octetString(utf16le(c.password))),
  );
}
