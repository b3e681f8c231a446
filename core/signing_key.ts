// The appliance's Ed25519 signing key: <data dir>/secret/signing_ed25519.pem (PKCS#8, 0600, directory
// 0700), created on first need, with the public half published beside it as signing_ed25519.pub (an
// OpenSSH line) and signing_ed25519.pub.pem (SubjectPublicKeyInfo PEM). It signs audit-chain checkpoints
// and recording manifests (tamper evidence); auditors check those signatures with ssh-keygen or openssl.
// Back it up with the database: without it old signatures still verify (the public key is kept with
// each), but new ones are made with a new key.
import { join } from "node:path";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { opensshPublicKey, sshFingerprint, sshsigArmor, sshsigSignedData } from "./sshsig.ts";

export class SigningKeyError extends Error {
  override name = "SigningKeyError";
  constructor(readonly path: string, message: string) {
    super(`signing key ${path}: ${message}`);
  }
}

export const SIGNER_IDENTITY = "jumphost";

export interface PublicSigningKey {
  /** the raw 32-byte Ed25519 public key */
  raw: Uint8Array;
  /** "ssh-ed25519 AAAA… jumphost" */
  openssh: string;
  /** SubjectPublicKeyInfo PEM */
  pem: string;
  /** "SHA256:…" as ssh-keygen prints it */
  fingerprint: string;
}

export interface SigningKey {
  publicKey: PublicSigningKey;
  /** the raw Ed25519 signature of `message` (what `openssl pkeyutl -verify -rawin` checks) */
  sign(message: Uint8Array): Uint8Array;
  /** an armoured SSHSIG signature of `message` (what `ssh-keygen -Y verify -n namespace` checks) */
  sshsig(message: Uint8Array, namespace: string): string;
}

export function signingKeyPath(dataDir: string): string {
  return join(dataDir, "secret", "signing_ed25519.pem");
}

/** The public half of an OpenSSH "ssh-ed25519 AAAA…" line or a PEM SubjectPublicKeyInfo. */
export function parsePublicSigningKey(text: string): PublicSigningKey {
  const t = text.trim();
  let raw: Uint8Array;
  if (t.startsWith("-----BEGIN PUBLIC KEY-----")) {
    const der = createPublicKey(t).export({ format: "der", type: "spki" }) as Uint8Array;
    raw = new Uint8Array(der.slice(der.length - 32));
  } else {
    const m = /^ssh-ed25519\s+([A-Za-z0-9+/=]+)/.exec(t);
    if (!m) throw new SigningKeyError("(text)", "not an ssh-ed25519 public key");
    const blob = Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0));
    if (blob.length !== 51) throw new SigningKeyError("(text)", "malformed ssh-ed25519 key");
    raw = blob.slice(19);
  }
  return publicFromRaw(raw);
}

function publicFromRaw(raw: Uint8Array): PublicSigningKey {
  return {
    raw,
    openssh: opensshPublicKey(raw, SIGNER_IDENTITY),
    pem: spkiPem(raw),
    fingerprint: sshFingerprint(raw),
  };
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

function spkiKey(raw: Uint8Array): KeyObject {
  const der = new Uint8Array(SPKI_PREFIX.length + 32);
  der.set(SPKI_PREFIX);
  der.set(raw, SPKI_PREFIX.length);
  return createPublicKey({ key: der as unknown as Buffer, format: "der", type: "spki" });
}

function spkiPem(raw: Uint8Array): string {
  return spkiKey(raw).export({ format: "pem", type: "spki" }) as string;
}

/** Checks a raw Ed25519 signature; false (never a throw) for a malformed signature. */
export function verifySignature(key: PublicSigningKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return signature.length === 64 && verify(null, message, spkiKey(key.raw), signature);
  } catch {
    return false;
  }
}

function fromPrivate(k: KeyObject): SigningKey {
  const der = createPublicKey(k).export({ format: "der", type: "spki" }) as Uint8Array;
  const pub = publicFromRaw(new Uint8Array(der.slice(der.length - 32)));
  const signRaw = (m: Uint8Array) => new Uint8Array(sign(null, m, k));
  return {
    publicKey: pub,
    sign: signRaw,
    sshsig: (m, ns) => sshsigArmor(pub.raw, ns, signRaw(sshsigSignedData(m, ns))),
  };
}

/**
 * Reads the signing key, creating it (and publishing its public half) when missing and `create` is set
 * (the default). A key readable by group or others is refused rather than used.
 */
export async function loadSigningKey(dataDir: string, opts: { create?: boolean } = {}): Promise<SigningKey> {
  const path = signingKeyPath(dataDir);
  try {
    return await readKey(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    if (opts.create === false) throw new SigningKeyError(path, "does not exist");
  }
  const dir = join(dataDir, "secret");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  // written aside, then linked into place: of two isolates creating it at once, both end up with the first
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    await Deno.writeTextFile(tmp, pem, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.link(tmp, path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return await readKey(path);
}

async function readKey(path: string): Promise<SigningKey> {
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) {
    throw new SigningKeyError(path, `mode ${(st.mode & 0o777).toString(8)} is too open (want 600)`);
  }
  let key: SigningKey;
  try {
    const k = createPrivateKey(await Deno.readTextFile(path));
    if (k.asymmetricKeyType !== "ed25519") throw new Error(`a ${k.asymmetricKeyType} key, want ed25519`);
    key = fromPrivate(k);
  } catch (e) {
    throw new SigningKeyError(path, (e as Error).message);
  }
  await publish(path, key.publicKey);
  return key;
}

/** The public files beside the key, rewritten when absent or different (they are derived, never trusted). */
async function publish(path: string, pub: PublicSigningKey): Promise<void> {
  const base = path.replace(/\.pem$/, "");
  for (const [file, text] of [[`${base}.pub`, pub.openssh + "\n"], [`${base}.pub.pem`, pub.pem]]) {
    const have = await Deno.readTextFile(file).catch(() => null);
    if (have === text) continue;
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeTextFile(tmp, text, { mode: 0o644 });
      await Deno.rename(tmp, file);
    } catch {
      // best effort (a read-only data dir): `jumphost audit public-key` prints the same
      await Deno.remove(tmp).catch(() => {});
    }
  }
}

/** The public keys in a text: OpenSSH lines (allowed_signers lines too) or PEM blocks; # comments. */
export function parsePublicKeys(text: string): PublicSigningKey[] {
  const blocks = text.includes("-----BEGIN PUBLIC KEY-----")
    ? text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? []
    : text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
      .map((l) => l.slice(Math.max(0, l.indexOf("ssh-ed25519"))));
  return blocks.map(parsePublicSigningKey);
}

/**
 * The keys whose signatures count: this appliance's own (created on first need) and those in `files`
 * (configured trusted_signers, --allowed-keys). A file that cannot be read or parsed is an error; the own
 * key may be unreadable when files are given.
 */
export async function loadTrustedKeys(
  dataDir: string,
  files: (string | null)[],
): Promise<PublicSigningKey[]> {
  const given = files.filter((f): f is string => !!f);
  const keys: PublicSigningKey[] = [];
  try {
    keys.push((await loadSigningKey(dataDir)).publicKey);
  } catch (e) {
    // an auditor without access to the appliance's secret directory verifies with the keys given
    if (given.length === 0) throw e;
  }
  for (const f of given) {
    try {
      keys.push(...parsePublicKeys(await Deno.readTextFile(f)));
    } catch (e) {
      throw new SigningKeyError(f, (e as Error).message);
    }
  }
  return keys;
}
