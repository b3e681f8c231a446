/**
 * The TLS public key CredSSP binds to (MS-CSSP 3.1.5): the contents of the subjectPublicKey BIT
 * STRING of the certificate's SubjectPublicKeyInfo, without the unused-bits octet (for RSA, the
 * DER RSAPublicKey). Read straight from the certificate DER (node:tls `getPeerCertificate().raw`).
 */
import { ensure } from "../pdu/errors.ts";
import { children, ctxTag, expectTag, parseTlv, TAG_BIT_STRING, TAG_SEQUENCE } from "./der.ts";

export function subjectPublicKey(certificateDer: Uint8Array): Uint8Array {
  const cert = children(parseTlv(certificateDer, TAG_SEQUENCE, "Certificate"), "Certificate");
  ensure(cert.length >= 1, "invalid", "Certificate is empty");
  expectTag(cert[0], TAG_SEQUENCE, "tbsCertificate");
  const tbs = children(cert[0], "tbsCertificate");
  // [0] version (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const at = tbs.length > 0 && tbs[0].tag === ctxTag(0) ? 6 : 5;
  ensure(tbs.length > at, "truncated", "tbsCertificate has no subjectPublicKeyInfo");
  expectTag(tbs[at], TAG_SEQUENCE, "subjectPublicKeyInfo");
  const spki = children(tbs[at], "subjectPublicKeyInfo");
  ensure(spki.length === 2, "invalid", "subjectPublicKeyInfo is not (algorithm, subjectPublicKey)");
  expectTag(spki[1], TAG_BIT_STRING, "subjectPublicKey");
  const bits = spki[1].content;
  ensure(bits.length >= 2 && bits[0] === 0, "invalid", "subjectPublicKey has unused bits");
  return bits.slice(1);
}

/** The first CERTIFICATE of a PEM text, as DER. */
export function pemCertificateDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  ensure(m !== null, "invalid", "no PEM certificate");
  const b64 = m[1].replace(/\s+/g, "");
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
