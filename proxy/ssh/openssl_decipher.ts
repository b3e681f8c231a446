// The inbound half of ssh2's packet cipher on OpenSSL (see openssl_ciphers.ts): a packet that lies whole in
// the socket chunk is decrypted in place there; one that spans chunks is decrypted straight into its own
// buffer as the pieces arrive. A peer's bytes can make a packet fail, never write out of bounds.
import { Buffer } from "node:buffer";
import {
  EVP_CTRL_AEAD_SET_IV_FIXED,
  EVP_CTRL_AEAD_SET_TAG,
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
  MAX_PACKET_SIZE,
  newCipherCtx,
  OsslCipherKind,
  osslCreated,
  osslKind,
  outLen,
  POLY_TAG,
  putU32,
  scratch,
  sizeOut,
  sz,
  ZEROS64,
} from "./openssl_shared.ts";

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
