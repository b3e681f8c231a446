// ssh2's packet ciphers and deciphers (the interface of its crypto.js classes: outSeqno / allocPacket /
// encrypt, inSeqno / _onPayload / decrypt, free) on OpenSSL's libcrypto through FFI (libcrypto.ts), for
// aes128/256-gcm@openssh.com, aes128/192/256-ctr with hmac-sha2-256/512 (-etm@openssh.com) or hmac-sha1
// (-etm), and chacha20-poly1305@openssh.com. One EVP context per direction lives as long as the keys:
// CTR keeps its counter, GCM advances its invocation counter per packet (EVP_CTRL_GCM_IV_GEN, as OpenSSH
// does), chacha20 re-IVs two contexts per packet. No per-packet context, no copies:
//   - outbound: allocPacket leaves room for the tag/MAC, the packet is encrypted in place and written once;
//   - inbound: a packet that lies whole in the socket chunk is decrypted in place there; one that spans
//     chunks is decrypted straight into its own buffer as the pieces arrive.
// Every length handed to libcrypto is checked against the view it writes into first: a peer's bytes can
// make a packet fail ("Bad packet length", "Invalid MAC"), never write out of bounds.
import { Buffer } from "node:buffer";
import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_IV_FIXED,
  EVP_CTRL_AEAD_SET_TAG,
  EVP_CTRL_GCM_IV_GEN,
  type LibCrypto,
  poly1305EvpMac,
} from "./libcrypto.ts";

const MAX_PACKET_SIZE = 35000; // ssh2's limit
const POLY_TAG = 16;
const GCM_TAG = 16;

// scratch out-parameters, one set per isolate (calls are synchronous)
const outLen = new Int32Array(1);
const macLen = new Uint32Array(1);
const sizeOut = new BigUint64Array(1);
const scratch = new Uint8Array(64);
const ZEROS64 = new Uint8Array(64);

// random padding from a pool refilled 4 KiB at a time (one getRandomValues per ~300 packets)
const pool = new Uint8Array(4096);
let poolPos = pool.length;
function randomPadding(dst: Uint8Array, at: number, n: number): void {
  if (poolPos + n > pool.length) {
    crypto.getRandomValues(pool);
    poolPos = 0;
  }
  dst.set(pool.subarray(poolPos, poolPos + n), at);
  poolPos += n;
}

/** The native contexts of one cipher or decipher; freed once, by free() or (backstop) garbage collection. */
class Contexts {
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

function packetBuffer(n: number): Buffer {
  if (n > SLAB >> 3) return Buffer.allocUnsafe(n);
  if (slabAt + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabAt = 0;
  }
  const b = slab.subarray(slabAt, slabAt + n);
  slabAt += (n + 7) & ~7;
  return b;
}

const finalizer = new FinalizationRegistry<Contexts>((c) => c.release());

function check(ok: number, what: string): void {
  if (ok !== 1) throw new Error(`libcrypto: ${what} failed`);
}

function newCipherCtx(
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

function evpCipher(s: LibCrypto, sslName: string): Deno.PointerValue {
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

function evpMd(s: LibCrypto, sslName: string): Deno.PointerValue {
  if (sslName === "sha256") return s.EVP_sha256();
  if (sslName === "sha512") return s.EVP_sha512();
  if (sslName === "sha1") return s.EVP_sha1();
  throw new Error(`libcrypto: no digest for ${sslName}`);
}

/** A size_t argument: Deno's FFI takes a number for it at run time (its types say bigint; BigInt() allocates). */
const sz = (n: number): bigint => n as unknown as bigint;

/** 4-byte big-endian sequence number, for HMAC input and the chacha20 nonce. */
function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
function getU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

// ----------------------------------------------------------------------------------------------------------
// outbound

export interface OutboundConfig {
  onWrite: (b: Uint8Array) => void;
  seqno: number;
  cipherInfo: CipherInfo;
  cipherKey: Uint8Array;
  cipherIV: Uint8Array;
  macInfo?: MacInfo;
  macKey?: Uint8Array;
}

/** The outbound half: outSeqno, allocPacket, encrypt (in place), free. */
export class OsslCipher {
  outSeqno: number;
  _onWrite: (b: Uint8Array) => void;
  readonly kind: OsslCipherKind;
  #dead = false;
  #s: LibCrypto;
  #ctxs: Contexts;
  #ctx: Deno.PointerValue; // GCM, CTR, chacha K_main
  #lenCtx: Deno.PointerValue = null; // chacha K_len
  #blockLen: number;
  #aadLen: number;
  #tagLen: number;
  #etm = false;
  #seq = new Uint8Array(4);
  #iv = new Uint8Array(16); // chacha: counter (LE) 0 || 0 || seqno (BE)
  #polyKey = new Uint8Array(64);

  constructor(s: LibCrypto, enc: OutboundConfig) {
    const kind = osslKind(enc.cipherInfo, enc.macInfo);
    if (kind === null) throw new Error(`libcrypto: ${enc.cipherInfo.sslName} not handled`);
    this.kind = kind;
    osslCreated[kind]++;
    this.#s = s;
    this.outSeqno = enc.seqno;
    this._onWrite = enc.onWrite;
    this.#ctxs = new Contexts(s);
    finalizer.register(this, this.#ctxs, this.#ctxs);
    const type = evpCipher(s, enc.cipherInfo.sslName);
    if (kind === "gcm") {
      this.#blockLen = 16;
      this.#aadLen = 4;
      this.#tagLen = GCM_TAG;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, enc.cipherKey, null, 1);
      check(s.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_SET_IV_FIXED, -1, enc.cipherIV), "GCM fixed IV");
    } else if (kind === "chacha") {
      this.#blockLen = 8;
      this.#aadLen = 4;
      this.#tagLen = POLY_TAG;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, enc.cipherKey.subarray(0, 32), this.#iv, 1);
      this.#lenCtx = newCipherCtx(s, this.#ctxs, type, enc.cipherKey.subarray(32, 64), this.#iv, 1);
      this.#ctxs.mac = s.EVP_MAC_CTX_new(poly1305EvpMac());
      if (this.#ctxs.mac === null) throw new Error("libcrypto: EVP_MAC_CTX_new failed");
    } else {
      const mac = enc.macInfo!;
      this.#blockLen = 16;
      this.#etm = mac.isETM;
      this.#aadLen = mac.isETM ? 4 : 0;
      this.#tagLen = mac.len;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, enc.cipherKey, enc.cipherIV, 1);
      this.#ctxs.hmac = s.HMAC_CTX_new();
      if (this.#ctxs.hmac === null) throw new Error("libcrypto: HMAC_CTX_new failed");
      const key = enc.macKey!;
      check(s.HMAC_Init_ex(this.#ctxs.hmac, key, key.length, evpMd(s, mac.sslName), null), "HMAC_Init_ex");
    }
  }

  free(): void {
    if (this.#dead) return;
    this.#dead = true;
    finalizer.unregister(this.#ctxs);
    this.#ctxs.release();
  }

  allocPacket(payloadLen: number): Buffer {
    const bl = this.#blockLen;
    let pktLen = 4 + 1 + payloadLen;
    let padLen = bl - ((pktLen - this.#aadLen) & (bl - 1));
    if (padLen < 4) padLen += bl;
    pktLen += padLen;
    const packet = packetBuffer(pktLen + this.#tagLen);
    putU32(packet, 0, pktLen - 4);
    packet[4] = padLen;
    randomPadding(packet, 5 + payloadLen, padLen);
    return packet;
  }

  /** Encrypts `packet` (length, padding length, payload, padding [, room for the tag]) and writes it. */
  encrypt(input: Uint8Array): void {
    if (this.#dead) return;
    const pktLen = getU32(input, 0) + 4;
    if (input.length < pktLen || pktLen < 5 + 4) throw new Error("libcrypto: malformed outbound packet");
    const total = pktLen + this.#tagLen;
    let packet = input;
    if (packet.length < total) { // not from our allocPacket: give it room for the tag
      packet = new Uint8Array(total);
      packet.set(input.subarray(0, pktLen));
    }
    const s = this.#s;
    const ctx = this.#ctx;
    const body = packet.subarray(this.#aadLen, pktLen);
    const tag = packet.subarray(pktLen, total);
    if (this.kind === "gcm") {
      check(s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_IV_GEN, 1, scratch), "GCM IV");
      check(s.EVP_CipherUpdate(ctx, null, outLen, packet, 4), "GCM AAD");
      check(s.EVP_CipherUpdate(ctx, body, outLen, body, body.length), "GCM encrypt");
      check(s.EVP_CipherFinal_ex(ctx, scratch, outLen), "GCM final");
      check(s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, tag), "GCM tag");
    } else if (this.kind === "chacha") {
      const iv = this.#iv;
      putU32(iv, 12, this.outSeqno);
      check(s.EVP_CipherInit_ex(this.#lenCtx, null, null, null, iv, -1), "chacha20 IV");
      check(s.EVP_CipherUpdate(this.#lenCtx, packet, outLen, packet, 4), "chacha20 length");
      check(s.EVP_CipherInit_ex(ctx, null, null, null, iv, -1), "chacha20 IV");
      // block 0 makes the Poly1305 key; the body starts at block 1
      check(s.EVP_CipherUpdate(ctx, this.#polyKey, outLen, ZEROS64, 64), "chacha20 key block");
      check(s.EVP_CipherUpdate(ctx, body, outLen, body, body.length), "chacha20 encrypt");
      const mac = this.#ctxs.mac;
      check(s.EVP_MAC_init(mac, this.#polyKey, sz(32), null), "Poly1305 init");
      check(s.EVP_MAC_update(mac, packet, sz(pktLen)), "Poly1305");
      check(s.EVP_MAC_final(mac, tag, sizeOut, sz(POLY_TAG)), "Poly1305 final");
    } else {
      const h = this.#ctxs.hmac;
      putU32(this.#seq, 0, this.outSeqno);
      check(s.HMAC_Init_ex(h, null, 0, null, null), "HMAC reset");
      check(s.HMAC_Update(h, this.#seq, sz(4)), "HMAC");
      if (this.#etm) {
        check(s.EVP_CipherUpdate(ctx, body, outLen, body, body.length), "AES-CTR encrypt");
        check(s.HMAC_Update(h, packet, sz(pktLen)), "HMAC");
      } else {
        check(s.HMAC_Update(h, packet, sz(pktLen)), "HMAC");
        check(s.EVP_CipherUpdate(ctx, body, outLen, body, body.length), "AES-CTR encrypt");
      }
      check(s.HMAC_Final(h, tag, macLen), "HMAC final");
    }
    this._onWrite(packet.length === total ? packet : packet.subarray(0, total));
    this.outSeqno = (this.outSeqno + 1) >>> 0;
  }
}

// ----------------------------------------------------------------------------------------------------------
// inbound

export interface InboundConfig {
  onPayload: (payload: Buffer) => unknown;
  seqno: number;
  decipherInfo: CipherInfo;
  decipherKey: Uint8Array;
  decipherIV: Uint8Array;
  macInfo?: MacInfo;
  macKey?: Uint8Array;
}

/**
 * The inbound half: inSeqno, _onPayload (ssh2 swaps it during a rekey), decrypt(data, p, dataLen) with
 * ssh2's contract (consume data[p, dataLen); a handler's non-undefined return pauses parsing there), free.
 */
export class OsslDecipher {
  inSeqno: number;
  _onPayload: (payload: Buffer) => unknown;
  readonly kind: OsslCipherKind;
  #dead = false;
  #s: LibCrypto;
  #ctxs: Contexts;
  #ctx: Deno.PointerValue;
  #lenCtx: Deno.PointerValue = null;
  #etm = false;
  #headLen: number; // bytes read before the body: 4 (length), or the first 16-byte block (CTR, not ETM)
  #head = new Uint8Array(16);
  #headPos = 0;
  #len = 0; // bytes after the length field (padding length, payload, padding)
  #packet: Uint8Array | null = null; // the body, when it spans chunks
  #pos = 0; // body bytes done
  #tagLen: number;
  #tag = new Uint8Array(64);
  #calc = new Uint8Array(64);
  #tagPos = 0;
  #seq = new Uint8Array(4);
  #iv = new Uint8Array(16);
  #polyKey = new Uint8Array(64);

  constructor(s: LibCrypto, dec: InboundConfig) {
    const kind = osslKind(dec.decipherInfo, dec.macInfo);
    if (kind === null) throw new Error(`libcrypto: ${dec.decipherInfo.sslName} not handled`);
    this.kind = kind;
    osslCreated[kind]++;
    this.#s = s;
    this.inSeqno = dec.seqno;
    this._onPayload = dec.onPayload;
    this.#ctxs = new Contexts(s);
    finalizer.register(this, this.#ctxs, this.#ctxs);
    const type = evpCipher(s, dec.decipherInfo.sslName);
    this.#headLen = 4;
    if (kind === "gcm") {
      this.#tagLen = GCM_TAG;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, dec.decipherKey, null, 0);
      check(s.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_SET_IV_FIXED, -1, dec.decipherIV), "GCM fixed IV");
    } else if (kind === "chacha") {
      this.#tagLen = POLY_TAG;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, dec.decipherKey.subarray(0, 32), this.#iv, 0);
      this.#lenCtx = newCipherCtx(s, this.#ctxs, type, dec.decipherKey.subarray(32, 64), this.#iv, 0);
      this.#ctxs.mac = s.EVP_MAC_CTX_new(poly1305EvpMac());
      if (this.#ctxs.mac === null) throw new Error("libcrypto: EVP_MAC_CTX_new failed");
    } else {
      const mac = dec.macInfo!;
      this.#etm = mac.isETM;
      if (!mac.isETM) this.#headLen = 16;
      this.#tagLen = mac.len;
      this.#ctx = newCipherCtx(s, this.#ctxs, type, dec.decipherKey, dec.decipherIV, 0);
      this.#ctxs.hmac = s.HMAC_CTX_new();
      if (this.#ctxs.hmac === null) throw new Error("libcrypto: HMAC_CTX_new failed");
      const key = dec.macKey!;
      check(s.HMAC_Init_ex(this.#ctxs.hmac, key, key.length, evpMd(s, mac.sslName), null), "HMAC_Init_ex");
    }
  }

  free(): void {
    if (this.#dead) return;
    this.#dead = true;
    finalizer.unregister(this.#ctxs);
    this.#ctxs.release();
  }

  /** Header complete: validate the length, start this packet's MAC/AEAD state. */
  #begin(): void {
    const s = this.#s;
    const head = this.#head;
    const ctx = this.#ctx;
    if (this.kind === "gcm") {
      const len = this.#len = getU32(head, 0);
      if (len + 20 > MAX_PACKET_SIZE || len < 16 || (len & 15) !== 0) throw new Error("Bad packet length");
      check(s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_IV_GEN, 1, scratch), "GCM IV");
      check(s.EVP_CipherUpdate(ctx, null, outLen, head, 4), "GCM AAD");
    } else if (this.kind === "chacha") {
      const iv = this.#iv;
      putU32(iv, 12, this.inSeqno);
      check(s.EVP_CipherInit_ex(this.#lenCtx, null, null, null, iv, -1), "chacha20 IV");
      check(s.EVP_CipherUpdate(this.#lenCtx, scratch, outLen, head, 4), "chacha20 length");
      const len = this.#len = getU32(scratch, 0);
      if (len > MAX_PACKET_SIZE || len < 8 || (len & 7) !== 0) throw new Error("Bad packet length");
      check(s.EVP_CipherInit_ex(ctx, null, null, null, iv, -1), "chacha20 IV");
      check(s.EVP_CipherUpdate(ctx, this.#polyKey, outLen, ZEROS64, 64), "chacha20 key block");
      const mac = this.#ctxs.mac;
      check(s.EVP_MAC_init(mac, this.#polyKey, sz(32), null), "Poly1305 init");
      check(s.EVP_MAC_update(mac, head, sz(4)), "Poly1305");
    } else {
      const h = this.#ctxs.hmac;
      putU32(this.#seq, 0, this.inSeqno);
      check(s.HMAC_Init_ex(h, null, 0, null, null), "HMAC reset");
      check(s.HMAC_Update(h, this.#seq, sz(4)), "HMAC");
      if (this.#etm) {
        const len = this.#len = getU32(head, 0);
        if (len > MAX_PACKET_SIZE || len < 5 || (len & 15) !== 0) throw new Error("Bad packet length");
        check(s.HMAC_Update(h, head, sz(4)), "HMAC");
      } else {
        check(s.EVP_CipherUpdate(ctx, head, outLen, head, 16), "AES-CTR decrypt");
        const len = this.#len = getU32(head, 0);
        if (len > MAX_PACKET_SIZE || len < 12 || ((4 + len) & 15) !== 0) throw new Error("Bad packet length");
        check(s.HMAC_Update(h, head, sz(16)), "HMAC");
        this.#packet = new Uint8Array(len);
        this.#packet.set(head.subarray(4, 16));
        this.#pos = 12;
      }
    }
  }

  /** Body bytes `src` (ciphertext) to `dst` (plaintext; may be the same bytes). */
  #body(dst: Uint8Array, src: Uint8Array): void {
    const s = this.#s;
    const n = src.length;
    if (this.kind === "gcm") {
      check(s.EVP_CipherUpdate(this.#ctx, dst, outLen, src, n), "GCM decrypt");
    } else if (this.kind === "chacha") {
      check(s.EVP_MAC_update(this.#ctxs.mac, src, sz(n)), "Poly1305");
      check(s.EVP_CipherUpdate(this.#ctx, dst, outLen, src, n), "chacha20 decrypt");
    } else if (this.#etm) {
      check(s.HMAC_Update(this.#ctxs.hmac, src, sz(n)), "HMAC");
      check(s.EVP_CipherUpdate(this.#ctx, dst, outLen, src, n), "AES-CTR decrypt");
    } else {
      check(s.EVP_CipherUpdate(this.#ctx, dst, outLen, src, n), "AES-CTR decrypt");
      check(s.HMAC_Update(this.#ctxs.hmac, dst, sz(n)), "HMAC");
    }
  }

  /** The tag/MAC is in: true when it matches. */
  #verify(): boolean {
    const s = this.#s;
    const tag = this.#tag;
    if (this.kind === "gcm") {
      check(s.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG, tag), "GCM tag");
      return s.EVP_CipherFinal_ex(this.#ctx, scratch, outLen) === 1;
    }
    const calc = this.#calc;
    if (this.kind === "chacha") {
      check(s.EVP_MAC_final(this.#ctxs.mac, calc, sizeOut, sz(POLY_TAG)), "Poly1305");
    } else check(s.HMAC_Final(this.#ctxs.hmac, calc, macLen), "HMAC final");
    return s.CRYPTO_memcmp(calc, tag, sz(this.#tagLen)) === 0;
  }

  decrypt(data: Uint8Array, p: number, dataLen: number): number | undefined {
    if (dataLen > data.length) dataLen = data.length;
    while (p < dataLen) {
      if (this.#dead) throw new Error("decipher used after free");
      if (this.#headPos < this.#headLen) {
        const nb = Math.min(this.#headLen - this.#headPos, dataLen - p);
        this.#head.set(data.subarray(p, p + nb), this.#headPos);
        p += nb;
        this.#headPos += nb;
        if (this.#headPos < this.#headLen) return;
        this.#begin();
      }
      if (this.#pos < this.#len) {
        if (p >= dataLen) return;
        const nb = Math.min(this.#len - this.#pos, dataLen - p);
        const src = data.subarray(p, p + nb);
        if (this.#packet === null && nb === this.#len) {
          this.#body(src, src); // whole body in this chunk: in place
          this.#packet = src;
        } else {
          this.#packet ??= new Uint8Array(this.#len);
          this.#body(this.#packet.subarray(this.#pos, this.#pos + nb), src);
        }
        p += nb;
        this.#pos += nb;
        if (this.#pos < this.#len) return;
      }
      {
        const nb = Math.min(this.#tagLen - this.#tagPos, dataLen - p);
        this.#tag.set(data.subarray(p, p + nb), this.#tagPos);
        p += nb;
        this.#tagPos += nb;
        if (this.#tagPos < this.#tagLen) return;
      }
      if (!this.#verify()) throw new Error("Invalid MAC");
      const packet = this.#packet!;
      const padLen = packet[0];
      if (padLen + 1 > packet.length) throw new Error("Bad padding length");
      const payload = Buffer.from(packet.buffer, packet.byteOffset + 1, packet.length - padLen - 1);
      this.inSeqno = (this.inSeqno + 1) >>> 0;
      this.#headPos = 0;
      this.#len = 0;
      this.#packet = null;
      this.#pos = 0;
      this.#tagPos = 0;
      const ret = this._onPayload(payload);
      if (ret !== undefined) return ret === false ? p : ret as number;
    }
  }
}
