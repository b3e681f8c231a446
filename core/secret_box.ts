// Values sealed at rest with the appliance secret (pure: no I/O). AES-256-GCM with a fresh 96-bit nonce;
// the text form names its format version and the key it was sealed with, so a rotated key can be told
// apart from tampering and old values stay readable while they are re-sealed:
//
//   sb1.<key id>.<nonce b64url>.<ciphertext+tag b64url>
//
// The key id is the first 16 hex digits of SHA-256("jumphost appliance key id" ‖ key). The additional
// data (`purpose`) binds a value to its row (e.g. "nt_hash:user:42"): a value copied into another row
// does not open there.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = "sb1";

export interface SecretKey {
  /** 16 hex digits derived from the key (not secret) */
  readonly id: string;
  readonly bytes: Uint8Array;
}

export type SecretBoxErrorCode = "bad_key" | "malformed" | "unknown_key" | "tampered";

export class SecretBoxError extends Error {
  override name = "SecretBoxError";
  constructor(readonly code: SecretBoxErrorCode, message: string) {
    super(message);
  }
}

export function secretKey(bytes: Uint8Array): SecretKey {
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw new SecretBoxError(
      "bad_key",
      `appliance key must be ${SECRET_KEY_BYTES} bytes, got ${bytes.length}`,
    );
  }
  const id = createHash("sha256").update("jumphost appliance key id").update(bytes).digest("hex").slice(
    0,
    16,
  );
  return { id, bytes: Uint8Array.from(bytes) };
}

/** Seal `plain` under `key`, bound to `purpose`. */
export function seal(key: SecretKey, plain: Uint8Array, purpose: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv("aes-256-gcm", key.bytes, nonce);
  c.setAAD(Buffer.from(`${VERSION}.${key.id}.${purpose}`, "utf8"));
  const body = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return `${VERSION}.${key.id}.${nonce.toString("base64url")}.${body.toString("base64url")}`;
}

/** The key id a sealed value names (to find values still sealed with an old key). */
export function sealedKeyId(sealed: string): string {
  return parse(sealed).keyId;
}

/** Open a value sealed by seal() with one of `keys` (the current key first, older ones for rotation). */
export function open(keys: SecretKey | readonly SecretKey[], sealed: string, purpose: string): Uint8Array {
  const p = parse(sealed);
  const key = (Array.isArray(keys) ? keys : [keys as SecretKey]).find((k) => k.id === p.keyId);
  if (!key) {
    throw new SecretBoxError("unknown_key", `value is sealed with key ${p.keyId}, which is not loaded`);
  }
  const d = createDecipheriv("aes-256-gcm", key.bytes, p.nonce);
  d.setAAD(Buffer.from(`${VERSION}.${key.id}.${purpose}`, "utf8"));
  d.setAuthTag(p.body.subarray(p.body.length - TAG_BYTES));
  try {
    return new Uint8Array(
      Buffer.concat([d.update(p.body.subarray(0, p.body.length - TAG_BYTES)), d.final()]),
    );
  } catch {
    throw new SecretBoxError(
      "tampered",
      "sealed value does not authenticate (altered, or sealed for another row)",
    );
  }
}

export function sealText(key: SecretKey, text: string, purpose: string): string {
  return seal(key, new TextEncoder().encode(text), purpose);
}

export function openText(keys: SecretKey | readonly SecretKey[], sealed: string, purpose: string): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(open(keys, sealed, purpose));
}

function parse(sealed: string): { keyId: string; nonce: Buffer; body: Buffer } {
  const f = typeof sealed === "string" ? sealed.split(".") : [];
  if (f.length !== 4 || f[0] !== VERSION) {
    throw new SecretBoxError("malformed", `sealed value is not in format ${VERSION}`);
  }
  if (!/^[0-9a-f]{16}$/.test(f[1]) || !/^[A-Za-z0-9_-]+$/.test(f[2]) || !/^[A-Za-z0-9_-]+$/.test(f[3])) {
    throw new SecretBoxError("malformed", "sealed value has a malformed field");
  }
  const nonce = Buffer.from(f[2], "base64url");
  const body = Buffer.from(f[3], "base64url");
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
    throw new SecretBoxError("malformed", "sealed value has a wrong nonce or body length");
  }
  return { keyId: f[1], nonce, body };
}
