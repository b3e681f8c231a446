/** The hash primitives NTLM and CredSSP use, over node:crypto (which has MD4 in Deno), and helpers. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function md4(data: Uint8Array): Uint8Array {
  return u8(createHash("md4").update(data).digest());
}
export function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return u8(h.digest());
}
export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("md5", key);
  for (const p of parts) h.update(p);
  return u8(h.digest());
}
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return u8(h.digest());
}
export function randomBytesU8(n: number): Uint8Array {
  return u8(randomBytes(n));
}
/** Constant-time equality (false for different lengths). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** UTF-16LE, the encoding of every NTLM/CredSSP string. */
export function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >>> 8;
  }
  return out;
}
const utf16Decoder = new TextDecoder("utf-16le");
export function fromUtf16le(b: Uint8Array): string {
  return utf16Decoder.decode(b.subarray(0, b.length & ~1));
}

/** The NT hash (NTOWFv1): MD4 of the UTF-16LE password. What the credential store keeps. */
export function ntHash(password: string): Uint8Array {
  return md4(utf16le(password));
}
