// The outbound half of ssh2's packet cipher on OpenSSL (see openssl_ciphers.ts): allocPacket leaves room for
// the tag or MAC, the packet is encrypted in place and written once.
import { Buffer } from "node:buffer";
import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_IV_FIXED,
  EVP_CTRL_GCM_IV_GEN,
  type LibCrypto,
  poly1305EvpMac,
} from "./libcrypto.ts";
import {
  check,
  CipherInfo,
  Contexts,
  evpCipher,
  evpMd,
  finalizer,
  GCM_TAG,
  getU32,
  MacInfo,
  macLen,
  newCipherCtx,
  OsslCipherKind,
  osslCreated,
  osslKind,
  outLen,
  packetBuffer,
  POLY_TAG,
  putU32,
  randomPadding,
  scratch,
  sizeOut,
  sz,
  ZEROS64,
} from "./openssl_shared.ts";

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
