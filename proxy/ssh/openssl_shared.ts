// What the OpenSSL packet ciphers (openssl_cipher.ts) and deciphers (openssl_decipher.ts) share: the
// scratch out-parameters of the FFI calls (one set per isolate, calls are synchronous), random padding, the
// slabs outgoing packets are cut from, the native contexts and their release, and which kind handles what.
import { Buffer } from "node:buffer";
import type { LibCrypto } from "./libcrypto.ts";

export const MAX_PACKET_SIZE = 35000; // ssh2's limit
export const POLY_TAG = 16;
export const GCM_TAG = 16;

// scratch out-parameters, one set per isolate (calls are synchronous)
export const outLen = new Int32Array(1);
export const macLen = new Uint32Array(1);
export const sizeOut = new BigUint64Array(1);
export const scratch = new Uint8Array(64);
export const ZEROS64 = new Uint8Array(64);

// random padding from a pool refilled 4 KiB at a time (one getRandomValues per ~300 packets)
const pool = new Uint8Array(4096);
let poolPos = pool.length;
export function randomPadding(dst: Uint8Array, at: number, n: number): void {
  if (poolPos + n > pool.length) {
    crypto.getRandomValues(pool);
    poolPos = 0;
  }
  dst.set(pool.subarray(poolPos, poolPos + n), at);
  poolPos += n;
}

/** The native contexts of one cipher or decipher; freed once, by free() or (backstop) garbage collection. */
export class Contexts {
  cipher: Deno.PointerValue[] = [];
  hmac: Deno.PointerValue = null;
  mac: Deno.PointerValue = null;
  constructor(private readonly s: LibCrypto) {}
  release(): void {
    for (const c of this.cipher) if (c !== null) this.s.EVP_CIPHER_CTX_free(c);
    this.cipher = [];
    if (this.hmac !== null) this.s.HMAC_CTX_free(this.hmac);
    if (this.mac !== null) this.s.EVP_MAC_CTX_free(this.mac);
    this.hmac = this.mac = null;
  }
}
/**
 * Outgoing packets are cut from shared slabs, as Node's Buffer pool does for small buffers: one allocation
 * per slab instead of one (zero-filled) per packet — profiled, a tenth of the proxy's CPU in a download.
 * A packet is never handed out twice, so nothing overwrites one that a socket has yet to send; a slab is
 * freed once the last of its packets is.
 */
const SLAB = 512 << 10;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabAt = 0;

export function packetBuffer(n: number): Buffer {
  if (n > SLAB >> 3) return Buffer.allocUnsafe(n);
  if (slabAt + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabAt = 0;
  }
  const b = slab.subarray(slabAt, slabAt + n);
  slabAt += (n + 7) & ~7;
  return b;
}

export const finalizer = new FinalizationRegistry<Contexts>((c) => c.release());

export function check(ok: number, what: string): void {
  if (ok !== 1) throw new Error(`libcrypto: ${what} failed`);
}

export function newCipherCtx(
  s: LibCrypto,
  ctxs: Contexts,
  type: Deno.PointerValue,
  key: Uint8Array,
  iv: Uint8Array | null,
  enc: number,
) {
  const ctx = s.EVP_CIPHER_CTX_new();
  if (ctx === null) throw new Error("libcrypto: EVP_CIPHER_CTX_new failed");
  ctxs.cipher.push(ctx);
  check(s.EVP_CipherInit_ex(ctx, type, null, key, iv, enc), "EVP_CipherInit_ex");
  return ctx;
}

/** The cipher/MAC kinds implemented here. */
export type OsslCipherKind = "gcm" | "ctr" | "chacha";

/** Ciphers and deciphers made so far in this isolate, per kind (tests check the proxy really uses them). */
export const osslCreated: Record<OsslCipherKind, number> = { gcm: 0, ctr: 0, chacha: 0 };

export interface CipherInfo {
  sslName: string;
  blockLen: number;
  keyLen: number;
  ivLen: number;
  authLen: number;
  discardLen: number;
}
export interface MacInfo {
  sslName: string;
  len: number;
  actualLen: number;
  isETM: boolean;
}

/** Which kind handles a negotiated cipher (+ MAC), or null when libcrypto is not used for it. */
export function osslKind(cipher: CipherInfo, mac: MacInfo | undefined): OsslCipherKind | null {
  switch (cipher.sslName) {
    case "aes-128-gcm":
    case "aes-256-gcm":
      return "gcm";
    case "chacha20":
      return "chacha";
    case "aes-128-ctr":
    case "aes-192-ctr":
    case "aes-256-ctr":
      if (mac === undefined || mac.actualLen !== mac.len) return null; // the -96 MACs stay with ssh2
      return ["sha1", "sha256", "sha512"].includes(mac.sslName) ? "ctr" : null;
  }
  return null;
}

export function evpCipher(s: LibCrypto, sslName: string): Deno.PointerValue {
  switch (sslName) {
    case "aes-128-gcm":
      return s.EVP_aes_128_gcm();
    case "aes-256-gcm":
      return s.EVP_aes_256_gcm();
    case "aes-128-ctr":
      return s.EVP_aes_128_ctr();
    case "aes-192-ctr":
      return s.EVP_aes_192_ctr();
    case "aes-256-ctr":
      return s.EVP_aes_256_ctr();
    case "chacha20":
      return s.EVP_chacha20();
  }
  throw new Error(`libcrypto: no cipher for ${sslName}`);
}

export function evpMd(s: LibCrypto, sslName: string): Deno.PointerValue {
  if (sslName === "sha256") return s.EVP_sha256();
  if (sslName === "sha512") return s.EVP_sha512();
  if (sslName === "sha1") return s.EVP_sha1();
  throw new Error(`libcrypto: no digest for ${sslName}`);
}

/** A size_t argument: Deno's FFI takes a number for it at run time (its types say bigint; BigInt() allocates). */
export const sz = (n: number): bigint => n as unknown as bigint;

/** 4-byte big-endian sequence number, for HMAC input and the chacha20 nonce. */
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
export function getU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
