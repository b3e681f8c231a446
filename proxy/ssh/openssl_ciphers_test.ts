// openssl_ciphers.ts against ssh2's own node:crypto classes: for every algorithm, random packets of random
// sizes encrypted by one side and decrypted by the other (both ways), delivered in random chunks; then the
// framing fuzzed: a flipped bit in a tag, a MAC, the ciphertext or the length is an Error, never a crash.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { replaceCipher, ssh2Crypto } from "./ssh2_crypto.ts";
import { cryptoBackend, libcrypto } from "./libcrypto.ts";
import { OsslCipher, OsslDecipher } from "./openssl_ciphers.ts";
import { poly1305Ready, replaceChacha } from "./chacha20_poly1305.ts";

// deno-lint-ignore no-explicit-any
type Untyped = any;

const CASES: [cipher: string, mac?: string][] = [
  ["aes128-gcm@openssh.com"],
  ["aes256-gcm@openssh.com"],
  ["chacha20-poly1305@openssh.com"],
  ["aes128-ctr", "hmac-sha2-256-etm@openssh.com"],
  ["aes192-ctr", "hmac-sha2-512-etm@openssh.com"],
  ["aes256-ctr", "hmac-sha2-256"],
  ["aes128-ctr", "hmac-sha2-512"],
  ["aes256-ctr", "hmac-sha1-etm@openssh.com"],
  ["aes192-ctr", "hmac-sha1"],
];

interface Keys {
  cipherInfo: Untyped;
  macInfo?: Untyped;
  key: Buffer;
  iv: Buffer;
  macKey?: Buffer;
  seqno: number;
}

function keysFor(cipher: string, mac?: string): Keys {
  const cipherInfo = ssh2Crypto.CIPHER_INFO[cipher];
  const macInfo = cipherInfo.authLen ? undefined : ssh2Crypto.MAC_INFO[mac!];
  return {
    cipherInfo,
    macInfo,
    key: randomBytes(cipherInfo.keyLen),
    iv: randomBytes(cipherInfo.ivLen),
    macKey: macInfo ? randomBytes(macInfo.len) : undefined,
    seqno: (Math.random() * 2 ** 32) >>> 0, // wraps around within a run sometimes
  };
}

function outbound(k: Keys, onWrite: (b: Uint8Array) => void) {
  return {
    onWrite,
    seqno: k.seqno,
    cipherInfo: k.cipherInfo,
    cipherIV: Buffer.from(k.iv), // ssh2 increments GCM IVs in place: each side its own copy
    cipherKey: k.key,
    macInfo: k.macInfo,
    macKey: k.macKey,
  };
}
function inbound(k: Keys, onPayload: (p: Buffer) => unknown) {
  return {
    onPayload,
    seqno: k.seqno,
    decipherInfo: k.cipherInfo,
    decipherIV: Buffer.from(k.iv),
    decipherKey: k.key,
    macInfo: k.macInfo,
    macKey: k.macKey,
  };
}

type Side = "openssl" | "node";
function makeCipher(side: Side, k: Keys, onWrite: (b: Uint8Array) => void): Untyped {
  return side === "openssl"
    ? new OsslCipher(libcrypto()!, outbound(k, onWrite))
    : replaceChacha(ssh2Crypto.createCipher({ outbound: outbound(k, onWrite) }));
}
function makeDecipher(side: Side, k: Keys, onPayload: (p: Buffer) => unknown): Untyped {
  return side === "openssl"
    ? new OsslDecipher(libcrypto()!, inbound(k, onPayload))
    : replaceChacha(ssh2Crypto.createDecipher({ inbound: inbound(k, onPayload) }));
}
/** Frees either side; ssh2's node:crypto AES-CTR contexts are finalised (else Deno frees them at GC). */
function release(x: Untyped): void {
  x.free();
  for (const k of ["_cipherInstance", "_decipherInstance"]) {
    try {
      x[k]?.final();
    } catch (_e) {
      // an unfinished GCM packet fails authentication here
    }
  }
}

function randomSize(): number {
  const r = Math.random();
  if (r < 0.3) return Math.floor(Math.random() * 64);
  if (r < 0.6) return Math.floor(Math.random() * 2048);
  return 32768 - Math.floor(Math.random() * 200); // channel-data sized
}

/** Encrypts `payloads`, returns the wire bytes. */
function seal(c: Untyped, payloads: Uint8Array[], out: Uint8Array[]): Uint8Array {
  for (const pl of payloads) {
    const packet = c.allocPacket(pl.length);
    packet.set(pl, 5);
    c.encrypt(packet);
  }
  const wire = Buffer.concat(out);
  out.length = 0;
  return wire;
}

/** Feeds `wire` to `d` in random chunks (copies: the openssl side decrypts in place). */
function feed(d: Untyped, wire: Uint8Array): void {
  let p = 0;
  while (p < wire.length) {
    const n = Math.random() < 0.3
      ? 1 + Math.floor(Math.random() * 40)
      : 1 + Math.floor(Math.random() * 70000);
    const chunk = Buffer.from(wire.subarray(p, Math.min(wire.length, p + n)));
    d.decrypt(chunk, 0, chunk.length);
    p += chunk.length;
  }
}

Deno.test("libcrypto is loaded on this machine (Debian's libssl3)", () => {
  assert.equal(cryptoBackend().name, "openssl", cryptoBackend().detail);
  assert(/OpenSSL 3/.test(cryptoBackend().detail), cryptoBackend().detail);
});

for (const [cipher, mac] of CASES) {
  for (const [from, to] of [["openssl", "node"], ["node", "openssl"], ["openssl", "openssl"]] as const) {
    Deno.test(`${cipher}${mac ? " + " + mac : ""}: ${from} encrypts, ${to} decrypts`, async () => {
      await poly1305Ready;
      const k = keysFor(cipher, mac);
      const out: Uint8Array[] = [];
      const got: Uint8Array[] = [];
      const c = makeCipher(from, k, (b) => out.push(Buffer.from(b)));
      const d = makeDecipher(to, k, (p) => void got.push(Buffer.from(p)));
      for (let round = 0; round < 6; round++) {
        const payloads = Array.from(
          { length: 1 + Math.floor(Math.random() * 8) },
          () => randomBytes(randomSize()),
        );
        feed(d, seal(c, payloads, out));
        assert.equal(got.length, payloads.length);
        for (let i = 0; i < payloads.length; i++) {
          assert(Buffer.compare(got[i], payloads[i]) === 0, `packet ${i}`);
        }
        got.length = 0;
      }
      assert.equal(c.outSeqno, d.inSeqno);
      release(c);
      release(d);
    });
  }
}

Deno.test("a packet that is not from allocPacket (no room for the tag) is encrypted all the same", async () => {
  await poly1305Ready;
  for (const [cipher, mac] of CASES) {
    const k = keysFor(cipher, mac);
    const out: Uint8Array[] = [];
    const got: Buffer[] = [];
    const c = makeCipher("openssl", k, (b) => out.push(Buffer.from(b)));
    const d = makeDecipher("node", k, (p) => void got.push(Buffer.from(p)));
    const ref = makeCipher("openssl", keysFor(cipher, mac), () => {});
    const full = ref.allocPacket(100);
    const bare = Buffer.from(full.subarray(0, full.readUInt32BE(0) + 4)); // exactly the packet, no tag room
    bare.fill(7, 5, 105);
    c.encrypt(bare);
    feed(d, Buffer.concat(out));
    assert.equal(got.length, 1, cipher);
    assert(got[0].equals(Buffer.alloc(100, 7)), cipher);
    for (const x of [c, d, ref]) release(x);
  }
});

Deno.test("framing fuzz: corrupted tags, MACs, ciphertext and lengths are rejected with an Error", async () => {
  await poly1305Ready;
  let rejected = 0;
  for (const [cipher, mac] of CASES) {
    for (let i = 0; i < 40; i++) {
      const k = keysFor(cipher, mac);
      const out: Uint8Array[] = [];
      const c = makeCipher("node", k, (b) => out.push(Buffer.from(b)));
      const wire = Buffer.from(seal(c, [randomBytes(randomSize())], out));
      // flip one bit: in the tag/MAC (the last bytes), the body, or the length field
      const where = i % 3 === 0
        ? wire.length - 1 - Math.floor(Math.random() * 12)
        : i % 3 === 1
        ? 5 + Math.floor(Math.random() * Math.max(1, wire.length - 40))
        : Math.floor(Math.random() * 4);
      wire[where] ^= 1 << (i & 7);
      const payloads: Buffer[] = [];
      const d = makeDecipher("openssl", k, (p) => void payloads.push(p));
      try {
        feed(d, wire);
        // a length that grew can leave the decipher waiting for more bytes: never a payload
        assert.equal(payloads.length, 0, `${cipher}: corrupted packet accepted`);
      } catch (e) {
        assert(e instanceof Error);
        const m = (e as Error).message;
        assert(/Invalid MAC|Bad packet length|Bad padding length/.test(m), m);
        rejected++;
      }
      release(d);
      release(c);
    }
  }
  assert(rejected > CASES.length * 30, `only ${rejected} rejections`);
});

Deno.test("framing fuzz: random bytes never crash the decipher", () => {
  for (const [cipher, mac] of CASES) {
    for (let i = 0; i < 200; i++) {
      const d = makeDecipher("openssl", keysFor(cipher, mac), () => {
        throw new Error("random bytes authenticated");
      });
      const junk = randomBytes(1 + Math.floor(Math.random() * 40000));
      try {
        feed(d, junk);
      } catch (e) {
        assert(e instanceof Error);
        const m = (e as Error).message;
        assert(/Invalid MAC|Bad packet length|Bad padding length/.test(m), m);
      }
      d.free();
    }
  }
});

Deno.test("a freed decipher refuses further bytes; a freed cipher writes nothing", () => {
  const k = keysFor("aes128-gcm@openssh.com");
  const out: Uint8Array[] = [];
  const c = makeCipher("openssl", k, (b) => out.push(b));
  const d = makeDecipher("openssl", k, () => {});
  c.free();
  c.free();
  c.encrypt(c.allocPacket(10));
  assert.equal(out.length, 0);
  d.free();
  assert.throws(() => d.decrypt(Buffer.alloc(10), 0, 10), /after free/);
});

Deno.test("replaceCipher() moves ssh2's own AES-GCM and chacha20-poly1305 to libcrypto mid-stream", async () => {
  // the path taken when ssh2 was loaded before ssh2_crypto.ts: same keys, IV state and sequence numbers
  await poly1305Ready;
  for (
    const cipher of ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
  ) {
    const k = keysFor(cipher);
    const out: Uint8Array[] = [];
    const got: Buffer[] = [];
    const nativeC = ssh2Crypto.createCipher({
      outbound: outbound(k, (b: Uint8Array) => out.push(Buffer.from(b))),
    });
    const nativeD = ssh2Crypto.createDecipher({
      inbound: inbound(k, (p: Buffer) => void got.push(Buffer.from(p))),
    });
    const payloads = [randomBytes(100), randomBytes(5000), randomBytes(32000), randomBytes(7)];
    // ssh2's own chacha20-poly1305 leaves its per-packet node:crypto contexts to the garbage collector (the
    // sanitizer would fail the test): it is replaced before its first packet, at a random sequence number
    const before = cipher.startsWith("chacha") ? 0 : 2;
    feed(nativeD, seal(nativeC, payloads.slice(0, before), out));
    const c = replaceCipher(nativeC);
    const d = replaceCipher(nativeD);
    assert.ok(c instanceof OsslCipher && d instanceof OsslDecipher, cipher);
    feed(d, seal(c, payloads.slice(before), out));
    assert.equal(got.length, 4, cipher);
    for (let i = 0; i < 4; i++) assert.ok(got[i].equals(payloads[i]), `${cipher} packet ${i}`);
    release(c);
    release(d);
  }
});

Deno.test("allocPacket() never hands out bytes of a packet still held (packets share slabs)", () => {
  const k = keysFor("aes128-gcm@openssh.com");
  const c = makeCipher("openssl", k, () => {});
  try {
    const held: { packet: Uint8Array; fill: number }[] = [];
    for (let i = 0; i < 400; i++) {
      const packet = c.allocPacket(randomSize()) as Uint8Array;
      packet.fill(i & 0xff);
      held.push({ packet, fill: i & 0xff });
    }
    for (const h of held) assert.ok(h.packet.every((b) => b === h.fill));
  } finally {
    release(c);
  }
});
