import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import {
  chacha,
  ChaChaPolyCipher,
  ChaChaPolyDecipher,
  poly1305,
  poly1305Ready,
  sealPacket,
} from "./chacha20_poly1305.ts";

await poly1305Ready;

// deno-lint-ignore no-explicit-any
type Untyped = any;
const require = createRequire(import.meta.url);
const hex = (h: string) => Uint8Array.from(h.replace(/\s/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

Deno.test("Poly1305 and the original ChaCha20 match their published known answers", () => {
  // RFC 8439 2.5.2
  const key = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  for (const cut of [0, 4, 16, msg.length]) {
    assert.equal(
      toHex(poly1305(msg.subarray(0, cut), msg.subarray(cut), key)),
      "a8061dc1305136c6c22b8baf0c0127a9",
    );
  }
  // draft-agl-tls-chacha20poly1305-04 section 7, first vector: all-zero key and nonce, block 0
  assert.equal(
    toHex(chacha(new Uint8Array(32), 0, 0, new Uint8Array(64))),
    "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7" +
      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
  );
});

function ssh2Pair(key: Uint8Array, seqno: number) {
  const { createCipher, createDecipher, CIPHER_INFO } = require("ssh2/lib/protocol/crypto.js");
  const info = CIPHER_INFO["chacha20-poly1305@openssh.com"];
  const written: Uint8Array[] = [];
  const payloads: Uint8Array[] = [];
  const cipher = createCipher({
    outbound: {
      onWrite: (b: Uint8Array) => written.push(new Uint8Array(b)),
      cipherInfo: info,
      cipherKey: Buffer.from(key),
      seqno,
      forceNative: true,
    },
  });
  const decipher = createDecipher({
    inbound: {
      onPayload: (p: Uint8Array) => void payloads.push(new Uint8Array(p)),
      decipherInfo: info,
      decipherKey: Buffer.from(key),
      seqno,
      forceNative: true,
    },
  });
  return { cipher: cipher as Untyped, decipher: decipher as Untyped, written, payloads };
}

Deno.test({
  name: "chacha20-poly1305@openssh.com packets equal ssh2's own construction, both ways",
  // ssh2's reference implementation leaves its per-packet contexts open: the reason ours replaces it
  sanitizeResources: false,
}, async () => {
  await require("ssh2/lib/protocol/crypto.js").init;
  const key = new Uint8Array(64).map((_, i) => (i * 7 + 3) & 0xff);
  const seqno = 0xfffffffe;
  const theirs = ssh2Pair(key, seqno);
  const written: Uint8Array[] = [];
  const ours = new ChaChaPolyCipher(key, seqno, (b) => written.push(new Uint8Array(b)));
  for (const size of [0, 1, 100, 32768]) {
    const packet = ours.allocPacket(size);
    packet.fill(0x41, 5, 5 + size);
    theirs.cipher.encrypt(Buffer.from(packet));
    ours.encrypt(packet);
  }
  const theirBytes = Buffer.concat(theirs.written);
  assert.equal(toHex(Buffer.concat(written)), toHex(theirBytes));
  assert.equal(ours.outSeqno, 2); // wrapped around like OpenSSH's 32-bit sequence number
  // ours decrypts theirs, fed in awkward pieces
  const got: number[] = [];
  const dec = new ChaChaPolyDecipher(key, seqno, (p) => void got.push(p.length));
  for (let p = 0; p < theirBytes.length; p += 7) {
    const chunk = theirBytes.subarray(p, Math.min(p + 7, theirBytes.length));
    dec.decrypt(chunk, 0, chunk.length);
  }
  assert.deepEqual(got, [0, 1, 100, 32768]);
  // theirs decrypts ours
  const back = Buffer.concat(written);
  theirs.decipher.decrypt(back, 0, back.length);
  assert.deepEqual(theirs.payloads.map((p: Uint8Array) => p.length), [0, 1, 100, 32768]);
});

Deno.test("a tampered chacha20-poly1305 packet is refused", () => {
  const key = new Uint8Array(64).fill(9);
  const packet = new ChaChaPolyCipher(key, 5, () => {}).allocPacket(10);
  const sealed = sealPacket(key, 5, packet);
  for (const at of [4, 20, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at] ^= 0x80;
    const dec = new ChaChaPolyDecipher(key, 5, () => undefined);
    assert.throws(() => dec.decrypt(bad, 0, bad.length), /Invalid MAC/);
  }
  // a flipped length bit gives a length that is refused or waited for, never a payload
  const badLen = sealed.slice();
  badLen[0] ^= 0x80;
  const none: number[] = [];
  assert.throws(
    () => new ChaChaPolyDecipher(key, 5, (p) => void none.push(p.length)).decrypt(badLen, 0, badLen.length),
    /Bad packet length/,
  );
  assert.deepEqual(none, []);
  // and the wrong sequence number
  assert.throws(() => new ChaChaPolyDecipher(key, 6, () => undefined).decrypt(sealed, 0, sealed.length));
  const ok: number[] = [];
  new ChaChaPolyDecipher(key, 5, (p) => void ok.push(p.length)).decrypt(sealed, 0, sealed.length);
  assert.deepEqual(ok, [10]);
});
