// Recordings at rest in the age format (https://age-encryption.org/v1), X25519 recipients only.
//
// npm:age-encryption does the age parts: keys (generate, identity → recipient, parsing age1…), the header
// (file key wrapped to each recipient, its MAC) and whole-file decryption (recorder/recording_read.ts).
// Hand-written here, on node:crypto (libcrypto), is only the payload's ChaCha20-Poly1305 STREAM chunk:
//   - the recording sink re-seals the growing last chunk every second (recorder/recording_file.ts) so the
//     file on disk is always a complete age file; the library's encryptSTREAM holds up to 64 KiB of
//     output until the chunk fills and offers no way to seal a chunk as "last so far";
//   - the live view follows a growing file chunk by chunk (core/age_file.ts), which a one-shot stream
//     decrypter cannot do;
//   - libcrypto seals at several hundred MiB/s where the library's pure-JS cipher streams ~66 MiB/s.
// Same format either way: payload = nonce(16) || chunk*, chunk i = ChaCha20-Poly1305(k, counter(11 bytes
// BE) || last flag, ≤ 64 KiB), k = HKDF-SHA256(file key, salt = nonce, "payload"); every chunk but the
// last holds exactly 64 KiB.
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";

export const CHUNK = 64 * 1024;
export const TAG = 16;
export const SEALED_CHUNK = CHUNK + TAG;
const NONCE = 16;

export class AgeError extends Error {
  override name = "AgeError";
  constructor(
    readonly code: "bad_recipient" | "bad_identity" | "bad_header" | "no_match" | "truncated" | "bad_chunk",
    message: string,
  ) {
    super(message);
  }
}

/** Validates an X25519 recipient (age1…, the only kind the Debian `age` CLI reads); returns it trimmed. */
export function checkRecipient(s: string): string {
  const r = s.trim();
  // age1pq1… / age1tag1… are other recipient types the library knows but `age` 1.1 does not
  if (!/^age1[02-9ac-hj-np-z]{58}$/.test(r)) {
    throw new AgeError("bad_recipient", `not an age X25519 recipient (age1…): ${r.slice(0, 80)}`);
  }
  try {
    new Encrypter().addRecipient(r); // the library decodes it (bech32 checksum, key length)
  } catch (_e) {
    throw new AgeError("bad_recipient", `not an age X25519 recipient (bad checksum): ${r.slice(0, 80)}`);
  }
  return r;
}

/** A new X25519 identity, AGE-SECRET-KEY-1… */
export function newIdentity(): Promise<string> {
  return generateX25519Identity();
}

/** The recipient (age1…) of an identity; AgeError when it is not an X25519 identity. */
export async function recipientOf(identity: string): Promise<string> {
  const id = identity.trim();
  if (!id.startsWith("AGE-SECRET-KEY-1")) throw new AgeError("bad_identity", "not an age X25519 identity");
  try {
    return await identityToRecipient(id);
  } catch (_e) {
    throw new AgeError("bad_identity", "not an age X25519 identity (bad checksum)");
  }
}

const payloadKey = (fileKey: Uint8Array, nonce: Uint8Array) =>
  new Uint8Array(hkdfSync("sha256", fileKey, nonce, "payload", 32));

/**
 * A new file's start, made by the library: `head` = header || payload nonce, and the payload key to seal
 * chunks with. The library never hands out the file key, so a recipient of our own (its documented
 * extension point) sees it and adds no stanza; the key is checked against the library's own empty payload.
 */
export async function newAgeFile(
  recipients: string[],
): Promise<{ head: Uint8Array; payloadKey: Uint8Array }> {
  if (recipients.length === 0) throw new AgeError("bad_recipient", "no recipient");
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(checkRecipient(r));
  let fileKey: Uint8Array | null = null;
  e.addRecipient({
    wrapFileKey(k: Uint8Array) {
      fileKey = k.slice();
      return [];
    },
  });
  // an empty file: header || nonce || the empty last chunk (its tag alone), which the sink overwrites
  const empty = await e.encrypt(new Uint8Array(0));
  const head = empty.slice(0, empty.length - TAG);
  if (!fileKey) throw new AgeError("bad_header", "the age library did not wrap a file key");
  const key = payloadKey(fileKey, head.subarray(head.length - NONCE));
  const check = openChunk(key, 0, empty.subarray(empty.length - TAG));
  if (!check || !check.last || check.plain.length !== 0) {
    throw new AgeError("bad_header", "payload key derivation disagrees with the age library");
  }
  return { head, payloadKey: key };
}

/**
 * Where the header of `bytes` ends (after its MAC line) or null when more bytes are needed. The MAC line
 * is the only one starting with "---" (stanzas start with "->", bodies are base64).
 */
export function headerEnd(bytes: Uint8Array): number | null {
  const magic = "age-encryption.org/v1\n";
  const n = Math.min(bytes.length, magic.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== magic.charCodeAt(i)) throw new AgeError("bad_header", "not an age v1 file");
  }
  for (let i = 0; i + 4 < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i + 1] === 45 && bytes[i + 2] === 45 && bytes[i + 3] === 45) {
      const nl = bytes.indexOf(10, i + 4);
      return nl < 0 ? null : nl + 1;
    }
  }
  if (bytes.length > 64 * 1024) throw new AgeError("bad_header", "no end of the age header in 64 KiB");
  return null;
}

/**
 * Opens the header at the start of `bytes` with `identity` (through the library: stanzas, MAC). Null when
 * the header or the payload nonce is not complete yet.
 */
export async function openAgeHeader(
  bytes: Uint8Array,
  identity: string,
): Promise<{ payloadKey: Uint8Array; payloadStart: number } | null> {
  const end = headerEnd(bytes);
  if (end === null || bytes.length < end + NONCE) return null;
  const d = new Decrypter();
  d.addIdentity(identity);
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(bytes.subarray(0, end));
  } catch (e) {
    const m = (e as Error).message;
    throw /no identity matched/.test(m)
      ? new AgeError("no_match", "the recording is not encrypted to this appliance's identity")
      : new AgeError("bad_header", `bad age header: ${m}`);
  }
  return { payloadKey: payloadKey(fileKey, bytes.subarray(end, end + NONCE)), payloadStart: end + NONCE };
}

function chunkNonce(counter: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(7, counter); // the low 4 of 11 counter bytes: 2^32 chunks are 256 TiB
  n[11] = last ? 1 : 0;
  return n;
}

/** Seals chunk number `counter` of the payload (`last`: the file's final chunk). */
export function sealChunk(key: Uint8Array, counter: number, last: boolean, plain: Uint8Array): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, chunkNonce(counter, last), { authTagLength: TAG });
  const body = c.update(plain);
  c.final();
  const out = new Uint8Array(body.length + TAG);
  out.set(body);
  out.set(c.getAuthTag(), body.length);
  return out;
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG) return null;
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = d.update(sealed.subarray(0, sealed.length - TAG));
  try {
    d.final();
  } catch (_e) {
    return null;
  }
  return new Uint8Array(body);
}

/** Opens chunk `counter`: as a middle chunk when full, else (or failing that) as the last. Null: not authentic. */
export function openChunk(
  key: Uint8Array,
  counter: number,
  sealed: Uint8Array,
): { plain: Uint8Array; last: boolean } | null {
  if (sealed.length === SEALED_CHUNK) {
    const p = open(key, chunkNonce(counter, false), sealed);
    if (p) return { plain: p, last: false };
  }
  const p = open(key, chunkNonce(counter, true), sealed);
  return p ? { plain: p, last: true } : null;
}
