// chacha20-poly1305@openssh.com (OpenSSH's PROTOCOL.chacha20poly1305), OpenSSH's first-choice cipher, as a
// drop-in for ssh2's pure-JS one. ssh2 without its addon creates three node:crypto ChaCha20 contexts per
// packet and never finalises them, so Deno frees them only on garbage collection (and the test sanitizer
// reports them); here each context is finalised at once. The 64-byte key is K_main (32) || K_len (32):
//   length   = ChaCha20(K_len, nonce = seqno, counter 0) XOR the 4-byte packet length
//   body     = ChaCha20(K_main, nonce = seqno, counter 1) XOR padding length, payload and padding
//   tag      = Poly1305(key = first 32 bytes of ChaCha20(K_main, seqno, counter 0), encrypted length || body)
// ChaCha20 is the original one (64-bit nonce and counter): OpenSSL's 16-byte IV is counter (LE) || nonce.
// Poly1305 is ssh2's own WebAssembly build (an instance of our own), 4x faster here than @noble/ciphers'.
import { createCipheriv, randomFillSync, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";

// deno-lint-ignore no-explicit-any
type Untyped = any;
type PolyAuth = (
  out: number,
  a: Uint8Array,
  aLen: number,
  b: Uint8Array,
  bLen: number,
  key: Uint8Array,
) => void;
let wasm: Untyped = null;
let tagPtr = 0;
let polyAuth: PolyAuth | null = null;

/**
 * Resolves once Poly1305 is loaded (a few ms). Not a top-level await: a worker whose module graph awaits at
 * load misses the messages posted to it meanwhile. createSshProxy waits for it; until then ssh2's own
 * implementation stays in place (replaceChacha).
 */
export const poly1305Ready: Promise<void> = Promise.resolve()
  .then(() => createRequire(import.meta.url)("ssh2/lib/protocol/crypto/poly1305.js")())
  .then((m: Untyped) => {
    tagPtr = m._malloc(16);
    polyAuth = m.cwrap("poly1305_auth", null, ["number", "array", "number", "array", "number", "array"]);
    wasm = m;
  });
poly1305Ready.catch(() => {}); // awaited (and reported) by createSshProxy

/** Poly1305 of a || b under a one-time 32-byte key. */
export function poly1305(a: Uint8Array, b: Uint8Array, key: Uint8Array): Uint8Array {
  if (polyAuth === null) throw new Error("Poly1305 is not loaded yet (await poly1305Ready)");
  polyAuth(tagPtr, a, a.length, b, b.length, key);
  return new Uint8Array(wasm.HEAPU8.buffer, tagPtr, 16).slice();
}

const TAG_LEN = 16;
const MAX_PACKET_LEN = 35000; // ssh2's limit
const ZEROS = new Uint8Array(32);

/** ChaCha20 keystream XOR `data` for packet `seqno` from block `counter` (0 or 1). */
export function chacha(key: Uint8Array, seqno: number, counter: number, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv[0] = counter;
  new DataView(iv.buffer).setUint32(12, seqno);
  const c = createCipheriv("chacha20", key, iv);
  const out = c.update(data);
  c.final(); // releases the context now, not at garbage collection
  return out;
}

function tag(keyMain: Uint8Array, seqno: number, encLen: Uint8Array, encBody: Uint8Array): Uint8Array {
  return poly1305(encLen, encBody, chacha(keyMain, seqno, 0, ZEROS));
}

/** Encrypts one packet (4-byte length, padding length, payload, padding): ciphertext || tag. */
export function sealPacket(key: Uint8Array, seqno: number, packet: Uint8Array): Uint8Array {
  const keyMain = key.subarray(0, 32);
  const encLen = chacha(key.subarray(32), seqno, 0, packet.subarray(0, 4));
  const encBody = chacha(keyMain, seqno, 1, packet.subarray(4));
  const out = new Uint8Array(4 + encBody.length + TAG_LEN);
  out.set(encLen, 0);
  out.set(encBody, 4);
  out.set(tag(keyMain, seqno, encLen, encBody), 4 + encBody.length);
  return out;
}

/** The packet length from its 4 encrypted bytes (to know how much to read before the tag). */
export function openLength(key: Uint8Array, seqno: number, encLen: Uint8Array): number {
  const len = chacha(key.subarray(32), seqno, 0, encLen);
  return new DataView(len.buffer, len.byteOffset, 4).getUint32(0);
}

/** Checks the tag, then decrypts the body (padding length, payload, padding); throws on a bad tag. */
export function openBody(
  key: Uint8Array,
  seqno: number,
  encLen: Uint8Array,
  encBody: Uint8Array,
  mac: Uint8Array,
): Uint8Array {
  const keyMain = key.subarray(0, 32);
  if (!timingSafeEqual(tag(keyMain, seqno, encLen, encBody), mac)) throw new Error("Invalid MAC");
  return chacha(keyMain, seqno, 1, encBody);
}

/** The outbound half, with the interface of ssh2's ChaChaPolyCipherNative (outSeqno, allocPacket, encrypt). */
export class ChaChaPolyCipher {
  #dead = false;
  constructor(
    private readonly key: Uint8Array,
    public outSeqno: number,
    private readonly onWrite: (b: Uint8Array) => void,
  ) {}
  free(): void {
    this.#dead = true;
  }
  allocPacket(payloadLen: number): Buffer {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = 8 - ((pktLen - 4) & 7);
    if (padLen < 4) padLen += 8;
    pktLen += padLen;
    const packet = Buffer.allocUnsafe(pktLen);
    packet.writeUInt32BE(pktLen - 4, 0);
    packet[4] = padLen;
    randomFillSync(packet, 5 + payloadLen, padLen);
    return packet;
  }
  encrypt(packet: Uint8Array): void {
    if (this.#dead) return;
    this.onWrite(Buffer.from(sealPacket(this.key, this.outSeqno, packet).buffer));
    this.outSeqno = (this.outSeqno + 1) >>> 0;
  }
}

/** The inbound half, with the interface of ssh2's ChaChaPolyDecipherNative (inSeqno, _onPayload, decrypt). */
export class ChaChaPolyDecipher {
  #lenBuf = new Uint8Array(4);
  #lenPos = 0;
  #len = 0;
  #packet: Uint8Array | null = null;
  #pktLen = 0;
  #mac = new Uint8Array(TAG_LEN);
  #macPos = 0;
  constructor(
    private readonly key: Uint8Array,
    public inSeqno: number,
    // ssh2 swaps this during a rekey
    public _onPayload: (payload: Buffer) => unknown,
  ) {}
  free(): void {}
  /** ssh2's contract: consume data[p, dataLen); a handler's non-undefined return pauses parsing there. */
  decrypt(data: Uint8Array, p: number, dataLen: number): number | undefined {
    while (p < dataLen) {
      if (this.#lenPos < 4) {
        while (this.#lenPos < 4 && p < dataLen) this.#lenBuf[this.#lenPos++] = data[p++];
        if (this.#lenPos < 4) return;
        this.#len = openLength(this.key, this.inSeqno, this.#lenBuf);
        if (this.#len > MAX_PACKET_LEN || this.#len < 8 || (this.#len & 7) !== 0) {
          throw new Error("Bad packet length");
        }
        this.#packet = new Uint8Array(this.#len);
      }
      if (this.#pktLen < this.#len) {
        const nb = Math.min(this.#len - this.#pktLen, dataLen - p);
        this.#packet!.set(data.subarray(p, p + nb), this.#pktLen);
        p += nb;
        this.#pktLen += nb;
        if (this.#pktLen < this.#len) return;
      }
      const nb = Math.min(TAG_LEN - this.#macPos, dataLen - p);
      this.#mac.set(data.subarray(p, p + nb), this.#macPos);
      p += nb;
      this.#macPos += nb;
      if (this.#macPos < TAG_LEN) return;

      const plain = openBody(this.key, this.inSeqno, this.#lenBuf, this.#packet!, this.#mac);
      const padLen = plain[0];
      if (padLen + 1 > plain.length) throw new Error("Bad padding length");
      const payload = Buffer.from(plain.buffer, plain.byteOffset + 1, plain.length - padLen - 1);
      this.inSeqno = (this.inSeqno + 1) >>> 0;
      this.#lenPos = 0;
      this.#len = 0;
      this.#packet = null;
      this.#pktLen = 0;
      this.#macPos = 0;
      const ret = this._onPayload(payload);
      if (ret !== undefined) return ret === false ? p : ret as number;
    }
  }
}

/** ssh2's own chacha20-poly1305 cipher or decipher replaced by ours (same keys and sequence number). */
export function replaceChacha(c: Untyped): Untyped {
  if (wasm === null) return c;
  const name = c?.constructor?.name;
  if (name === "ChaChaPolyCipherNative") {
    const key = Buffer.concat([c._encKeyMain, c._encKeyPktLen]);
    return new ChaChaPolyCipher(new Uint8Array(key), c.outSeqno, c._onWrite);
  }
  if (name === "ChaChaPolyDecipherNative") {
    const key = Buffer.concat([c._decKeyMain, c._decKeyPktLen]);
    return new ChaChaPolyDecipher(new Uint8Array(key), c.inSeqno, c._onPayload);
  }
  return c;
}
