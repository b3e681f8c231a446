// Per-packet crypto cost for 32 KiB packets (OpenSSH's channel packet size): the raw primitives through
// Deno's node:crypto and through OpenSSL's libcrypto via FFI, then the proxy's real packet classes, one
// packet sealed and opened again: ssh2's node:crypto ones (the fallback) against proxy/ssh/openssl_ciphers.ts.
//   deno run -A bench/ssh/crypto_micro.ts        (best of 15 rounds; the machine is shared, so take the min)
//   CRYPTO_PACKET=100 deno run -A bench/ssh/crypto_micro.ts   (a keystroke's packet: the per-call cost)
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";
import { ssh2Crypto } from "../../proxy/ssh/ssh2_crypto.ts";
import { libcrypto } from "../../proxy/ssh/libcrypto.ts";
import { OsslCipher, OsslDecipher } from "../../proxy/ssh/openssl_ciphers.ts";
import { poly1305Ready, replaceChacha } from "../../proxy/ssh/chacha20_poly1305.ts";

const PACKET = Number(Deno.env.get("CRYPTO_PACKET") ?? 32 * 1024);
const N = 300;
const SIZE = PACKET % 1024 === 0 ? `${PACKET / 1024} KiB` : `${PACKET} B`;
const key = randomBytes(16), iv12 = randomBytes(12), hmacKey = randomBytes(32);
const buf = randomBytes(PACKET);
const best: Record<string, number> = {};
function time(name: string, f: () => void): void {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) f();
  best[name] = Math.min(best[name] ?? Infinity, (performance.now() - t0) * 1000 / N);
}

// what ssh2's crypto.js does per packet for each cipher choice
const g = createCipheriv("aes-128-gcm", key, iv12);
g.setAAD(buf.subarray(0, 4));
const gcmCt = g.update(buf);
g.final();
const gcmTag = g.getAuthTag();
const ctrEnc = createCipheriv("aes-128-ctr", key, randomBytes(16));
const ctrDec = createDecipheriv("aes-128-ctr", key, randomBytes(16));
const cases: Record<string, () => void> = {
  "aes128-gcm encrypt (context per packet)": () => {
    const c = createCipheriv("aes-128-gcm", key, iv12);
    c.setAutoPadding(false);
    c.setAAD(buf.subarray(0, 4));
    c.update(buf);
    c.final();
    c.getAuthTag();
  },
  "aes128-gcm decrypt (context per packet)": () => {
    const d = createDecipheriv("aes-128-gcm", key, iv12);
    d.setAutoPadding(false);
    d.setAuthTag(gcmTag);
    d.setAAD(buf.subarray(0, 4));
    d.update(gcmCt);
    d.final();
  },
  "aes128-ctr + hmac-sha2-256-etm encrypt": () => {
    const e = ctrEnc.update(buf);
    createHmac("sha256", hmacKey).update(buf.subarray(0, 4)).update(e).digest();
  },
  "aes128-ctr + hmac-sha2-256-etm decrypt": () => {
    createHmac("sha256", hmacKey).update(buf.subarray(0, 4)).update(buf).digest();
    ctrDec.update(buf);
  },
  "aes128-ctr alone": () => void ctrEnc.update(buf),
  "hmac-sha256 alone": () => void createHmac("sha256", hmacKey).update(buf).digest(),
};

// the same AES-CTR through OpenSSL (libcrypto.so.3), if present
const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_aes_128_ctr: { parameters: [], result: "pointer" },
  EVP_EncryptInit_ex: { parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"], result: "i32" },
  EVP_EncryptUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_sha256: { parameters: [], result: "pointer" },
  HMAC: {
    parameters: ["pointer", "buffer", "i32", "buffer", "usize", "buffer", "buffer"],
    result: "pointer",
  },
} as const;
let ffi: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
try {
  ffi = Deno.dlopen("libcrypto.so.3", SYMBOLS);
} catch (e) {
  console.error(`libcrypto.so.3 not loadable (${(e as Error).message}); OpenSSL rows skipped`);
}
let ctx: Deno.PointerValue = null;
if (ffi) {
  const s = ffi.symbols;
  ctx = s.EVP_CIPHER_CTX_new();
  s.EVP_EncryptInit_ex(ctx, s.EVP_aes_128_ctr(), null, key, randomBytes(16));
  const out = new Uint8Array(PACKET), outLen = new Int32Array(1), mac = new Uint8Array(32);
  const macLen = new Uint32Array(1), sha256 = s.EVP_sha256();
  cases["OpenSSL via FFI: aes128-ctr"] = () => void s.EVP_EncryptUpdate(ctx, out, outLen, buf, PACKET);
  cases["OpenSSL via FFI: aes128-ctr + hmac-sha256"] = () => {
    s.EVP_EncryptUpdate(ctx, out, outLen, buf, PACKET);
    s.HMAC(sha256, hmacKey, hmacKey.length, out, BigInt(PACKET), mac, macLen);
  };
}

// the packet classes: seal one 32 KiB payload and open it again (a relayed packet's crypto on one leg)
await poly1305Ready;
const payload = randomBytes(PACKET - 64);
for (
  const [cipher, mac] of [
    ["chacha20-poly1305@openssh.com", undefined],
    ["aes128-gcm@openssh.com", undefined],
    ["aes128-ctr", "hmac-sha2-256-etm@openssh.com"],
  ] as const
) {
  const cipherInfo = ssh2Crypto.CIPHER_INFO[cipher];
  const macInfo = mac ? ssh2Crypto.MAC_INFO[mac] : undefined;
  const k = randomBytes(cipherInfo.keyLen), iv = randomBytes(cipherInfo.ivLen);
  const macKey = macInfo ? randomBytes(macInfo.len) : undefined;
  for (const side of ["node:crypto (ssh2)", "OpenSSL (FFI)"]) {
    if (side.startsWith("OpenSSL") && !ffi) continue;
    let wire: Uint8Array;
    const parts: Uint8Array[] = [];
    const out = {
      onWrite: (b: Uint8Array) => parts.push(b),
      seqno: 0,
      cipherInfo,
      cipherKey: k,
      cipherIV: Buffer.from(iv),
      macInfo,
      macKey,
    };
    const inb = {
      onPayload: () => {},
      seqno: 0,
      decipherInfo: cipherInfo,
      decipherKey: k,
      decipherIV: Buffer.from(iv),
      macInfo,
      macKey,
    };
    const ossl = side.startsWith("OpenSSL");
    const c = ossl
      ? new OsslCipher(libcrypto()!, out)
      : replaceChacha(ssh2Crypto.createCipher({ outbound: out }));
    const d = ossl
      ? new OsslDecipher(libcrypto()!, inb)
      : replaceChacha(ssh2Crypto.createDecipher({ inbound: inb }));
    cases[`${side}: ${cipher.replace("@openssh.com", "")}${mac ? " + etm" : ""} seal+open`] = () => {
      const p = c.allocPacket(payload.length);
      p.set(payload, 5);
      c.encrypt(p);
      wire = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      parts.length = 0;
      d.decrypt(wire, 0, wire.length);
    };
  }
}

for (let round = 0; round < 15; round++) for (const [name, f] of Object.entries(cases)) time(name, f);
for (const [name, us] of Object.entries(best)) {
  const mibps = PACKET / 1048576 / (us / 1e6);
  console.log(
    `${name.padEnd(45)} ${us.toFixed(1).padStart(7)} µs per ${SIZE}  ${mibps.toFixed(0).padStart(6)} MiB/s`,
  );
}
if (ffi) {
  ffi.symbols.EVP_CIPHER_CTX_free(ctx);
  ffi.close();
}
