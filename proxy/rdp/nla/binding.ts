/**
 * MS-CSSP 3.1.5 public-key binding: what pubKeyAuth carries (sealed) in each direction. Version 5+
 * hashes the key with the client's nonce; versions 2-4 echo the key (the server's reply adds 1 to
 * its first byte).
 */
import { sha256 } from "./crypto.ts";

const C2S = new TextEncoder().encode("CredSSP Client-To-Server Binding Hash\0");
const S2C = new TextEncoder().encode("CredSSP Server-To-Client Binding Hash\0");

/** The hash method applies when both sides speak version 5 or later. */
export const usesNonceHash = (negotiatedVersion: number): boolean => negotiatedVersion >= 5;

export function clientBinding(publicKey: Uint8Array, version: number, nonce: Uint8Array | null): Uint8Array {
  if (usesNonceHash(version)) return sha256(C2S, nonce ?? new Uint8Array(0), publicKey);
  return publicKey;
}

export function serverBinding(publicKey: Uint8Array, version: number, nonce: Uint8Array | null): Uint8Array {
  if (usesNonceHash(version)) return sha256(S2C, nonce ?? new Uint8Array(0), publicKey);
  const echo = publicKey.slice();
  if (echo.length > 0) echo[0] = (echo[0] + 1) & 0xff;
  return echo;
}

/** Highest TSRequest version spoken here (both directions). */
export const CREDSSP_MAX_VERSION = 6;
