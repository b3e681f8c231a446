// OpenSSH public key lines ("type base64 [comment]"): validation and SHA256 fingerprints, as ssh-keygen -l.
import { createHash } from "node:crypto";

export class SshKeyError extends Error {
  override name = "SshKeyError";
  readonly code = "invalid_ssh_key";
}

export interface ParsedSshKey {
  type: string;
  blob: Uint8Array;
  comment: string | null;
  fingerprint: string;
  /** canonical line without options */
  line: string;
}

const TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

export function fingerprint(blob: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

export function parseSshPublicKey(text: string): ParsedSshKey {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2) {
    throw new SshKeyError("not an OpenSSH public key line (expected: TYPE BASE64 [COMMENT])");
  }
  const [type, b64, ...rest] = parts;
  if (!TYPES.has(type)) throw new SshKeyError(`unsupported SSH key type "${type.slice(0, 40)}"`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new SshKeyError("SSH key data is not base64");
  const blob = new Uint8Array(Buffer.from(b64, "base64"));
  // the blob starts with the same type string, length-prefixed (RFC 4253 6.6)
  if (blob.length < 4) throw new SshKeyError("SSH key data too short");
  const n = new DataView(blob.buffer, blob.byteOffset).getUint32(0);
  if (
    n !== type.length || 4 + n > blob.length || new TextDecoder().decode(blob.subarray(4, 4 + n)) !== type
  ) {
    throw new SshKeyError(`SSH key data does not match its type "${type}"`);
  }
  if (blob.length < 4 + n + 16) throw new SshKeyError("SSH key data truncated");
  const comment = rest.length ? rest.join(" ") : null;
  return {
    type,
    blob,
    comment,
    fingerprint: fingerprint(blob),
    line: `${type} ${b64}${comment ? " " + comment : ""}`,
  };
}
