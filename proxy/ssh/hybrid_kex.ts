// The hybrid post-quantum key exchange mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex, OpenSSH
// 9.9+), pure apart from randomness: ML-KEM-768 from @noble/post-quantum (Debian 12's OpenSSL has none),
// X25519 from node:crypto (synchronous, as ssh2's key exchange needs).
//   client -> server  C_INIT  = ML-KEM-768 public key (1184) || X25519 public key (32)
//   server -> client  S_REPLY = ML-KEM-768 ciphertext (1088) || X25519 public key (32)
//   K = SHA-256(ML-KEM shared secret || X25519 shared secret), encoded in the exchange hash and the key
//   derivation as an SSH string (not an mpint, unlike curve25519-sha256).
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

export const MLKEM768_PUBLIC_KEY_LEN = 1184;
export const MLKEM768_CIPHERTEXT_LEN = 1088;
export const X25519_LEN = 32;
export const CLIENT_INIT_LEN = MLKEM768_PUBLIC_KEY_LEN + X25519_LEN;
export const SERVER_REPLY_LEN = MLKEM768_CIPHERTEXT_LEN + X25519_LEN;

export class HybridKexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HybridKexError";
  }
}

// DER wrappers of a raw X25519 key (RFC 8410), so node:crypto takes the 32 bytes as they are
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

interface X25519Pair {
  privateKey: KeyObject;
  publicRaw: Uint8Array;
}

/** An X25519 key pair; `privateRaw` only for known-answer tests. */
export function x25519Pair(privateRaw?: Uint8Array): X25519Pair {
  const privateKey = privateRaw
    ? createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, privateRaw)), format: "der", type: "pkcs8" })
    : generateKeyPairSync("x25519").privateKey;
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return { privateKey, publicRaw: new Uint8Array(spki.subarray(spki.length - X25519_LEN)) };
}

/** X25519 with the peer's raw public key; an all-zero result (a low-order point) is refused, as OpenSSH does. */
export function x25519Shared(own: KeyObject, peerRaw: Uint8Array): Uint8Array {
  if (peerRaw.length !== X25519_LEN) throw new HybridKexError("X25519 public key is not 32 bytes");
  let shared: Uint8Array;
  try {
    const publicKey = createPublicKey({
      key: Buffer.from(concat(SPKI_PREFIX, peerRaw)),
      format: "der",
      type: "spki",
    });
    shared = new Uint8Array(diffieHellman({ privateKey: own, publicKey }));
  } catch (e) {
    throw new HybridKexError(`X25519 failed: ${(e as Error).message}`);
  }
  if (shared.every((b) => b === 0)) throw new HybridKexError("X25519 shared secret is all zero");
  return shared;
}

/** K before its string encoding: SHA-256(ML-KEM shared secret || X25519 shared secret). */
export function hybridSecret(mlkemShared: Uint8Array, x25519Shared: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(mlkemShared).update(x25519Shared).digest());
}

/** The client side: `init` is sent in SSH_MSG_KEX_HYBRID_INIT, `finish` takes the server's reply. */
export class HybridKexClient {
  readonly init: Uint8Array;
  readonly #mlkemSecret: Uint8Array;
  readonly #x25519: X25519Pair;

  /** seeds only for known-answer tests: 64 bytes of ML-KEM key generation seed, 32 of X25519 key */
  constructor(seeds: { mlkem?: Uint8Array; x25519?: Uint8Array } = {}) {
    const kem = ml_kem768.keygen(seeds.mlkem);
    this.#mlkemSecret = kem.secretKey;
    this.#x25519 = x25519Pair(seeds.x25519);
    this.init = concat(kem.publicKey, this.#x25519.publicRaw);
  }

  finish(reply: Uint8Array): Uint8Array {
    if (reply.length !== SERVER_REPLY_LEN) {
      throw new HybridKexError(`server reply is ${reply.length} bytes, not ${SERVER_REPLY_LEN}`);
    }
    const mlkemShared = ml_kem768.decapsulate(reply.subarray(0, MLKEM768_CIPHERTEXT_LEN), this.#mlkemSecret);
    const x = x25519Shared(this.#x25519.privateKey, reply.subarray(MLKEM768_CIPHERTEXT_LEN));
    return hybridSecret(mlkemShared, x);
  }
}

/**
 * The server side: encapsulates to the client's ML-KEM key and answers its X25519 key. `seeds` only for
 * known-answer tests (32 bytes of encapsulation randomness, 32 of X25519 key).
 */
export function hybridKexServer(
  clientInit: Uint8Array,
  seeds: { mlkem?: Uint8Array; x25519?: Uint8Array } = {},
): { reply: Uint8Array; secret: Uint8Array } {
  if (clientInit.length !== CLIENT_INIT_LEN) {
    throw new HybridKexError(`client init is ${clientInit.length} bytes, not ${CLIENT_INIT_LEN}`);
  }
  let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    // FIPS 203's encapsulation key check (coefficients below q) is done by noble here
    enc = ml_kem768.encapsulate(clientInit.subarray(0, MLKEM768_PUBLIC_KEY_LEN), seeds.mlkem);
  } catch (e) {
    throw new HybridKexError(`ML-KEM-768 encapsulation failed: ${(e as Error).message}`);
  }
  const own = x25519Pair(seeds.x25519);
  const x = x25519Shared(own.privateKey, clientInit.subarray(MLKEM768_PUBLIC_KEY_LEN));
  return { reply: concat(enc.cipherText, own.publicRaw), secret: hybridSecret(enc.sharedSecret, x) };
}
