// Ed25519 signatures in the two forms standard tools check without jumphost's code (pure):
// - OpenSSH's SSHSIG (PROTOCOL.sshsig), checked with `ssh-keygen -Y verify -n NAMESPACE`;
// - the public key as an OpenSSH line and its SHA256 fingerprint (as `ssh-keygen -l` prints it).
// The raw 64-byte Ed25519 signature over the message itself is what `openssl pkeyutl -verify -rawin` checks.
import { createHash } from "node:crypto";

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An SSH wire "string": uint32 length, then the bytes. */
function sshString(v: Uint8Array | string): Uint8Array {
  const b = typeof v === "string" ? enc.encode(v) : v;
  return concat([u32(b.length), b]);
}

function b64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The SSH public key blob of a raw 32-byte Ed25519 key. */
export function ed25519KeyBlob(publicRaw: Uint8Array): Uint8Array {
  if (publicRaw.length !== 32) throw new RangeError(`Ed25519 public key of ${publicRaw.length} bytes`);
  return concat([sshString("ssh-ed25519"), sshString(publicRaw)]);
}

/** "ssh-ed25519 AAAA… comment", as in authorized_keys and allowed_signers files. */
export function opensshPublicKey(publicRaw: Uint8Array, comment = ""): string {
  return `ssh-ed25519 ${b64(ed25519KeyBlob(publicRaw))}${comment ? " " + comment : ""}`;
}

/** "SHA256:…" as `ssh-keygen -l` prints it. */
export function sshFingerprint(publicRaw: Uint8Array): string {
  const d = createHash("sha256").update(ed25519KeyBlob(publicRaw)).digest();
  return "SHA256:" + b64(new Uint8Array(d)).replace(/=+$/, "");
}

/** The bytes an SSHSIG signature signs: the preamble, the namespace and SHA-512 of the message. */
export function sshsigSignedData(message: Uint8Array, namespace: string): Uint8Array {
  const h = new Uint8Array(createHash("sha512").update(message).digest());
  return concat([
    enc.encode("SSHSIG"),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(h),
  ]);
}

/** The armoured SSHSIG file ("-----BEGIN SSH SIGNATURE-----") for a signature over sshsigSignedData. */
export function sshsigArmor(publicRaw: Uint8Array, namespace: string, signature: Uint8Array): string {
  if (signature.length !== 64) throw new RangeError(`Ed25519 signature of ${signature.length} bytes`);
  const blob = concat([
    enc.encode("SSHSIG"),
    u32(1),
    sshString(ed25519KeyBlob(publicRaw)),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(concat([sshString("ssh-ed25519"), sshString(signature)])),
  ]);
  const text = b64(blob);
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 70) lines.push(text.slice(i, i + 70));
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join("\n")}\n-----END SSH SIGNATURE-----\n`;
}
