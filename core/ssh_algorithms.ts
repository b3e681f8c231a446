// The SSH algorithms the proxy can speak (both legs run npm:ssh2 in Deno, without its native addon) and the
// ones it offers by default: OpenSSH's current defaults, less what `ssh-audit` 2.5 fails (NIST-curve ECDH),
// less SHA-1 MACs (it warns on them; nothing current needs them) and less what ssh2 cannot do (umac-*,
// sntrup761x25519-sha512). Pure: the configuration
// validates `ssh_kex`, `ssh_ciphers` and `ssh_macs` against these lists.

/** The hybrid post-quantum key exchange, ML-KEM-768 + X25519 (proxy/ssh/mlkem_kex.ts adds it to ssh2). */
export const MLKEM768X25519 = "mlkem768x25519-sha256";

/** Key exchanges the implementation supports; weak ones only for an operator who names them. */
export const SUPPORTED_SSH_KEX: readonly string[] = [
  MLKEM768X25519,
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "diffie-hellman-group-exchange-sha256",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512",
  "diffie-hellman-group14-sha256",
  "diffie-hellman-group15-sha512",
  "diffie-hellman-group17-sha512",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group-exchange-sha1",
  "diffie-hellman-group14-sha1",
  "diffie-hellman-group1-sha1",
];

/** OpenSSH 10's order, without sntrup761 (no implementation) and the NIST curves (ssh-audit fails them). */
export const DEFAULT_SSH_KEX: readonly string[] = [
  MLKEM768X25519,
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "diffie-hellman-group-exchange-sha256",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512",
  "diffie-hellman-group14-sha256",
];

export const SUPPORTED_SSH_CIPHERS: readonly string[] = [
  "chacha20-poly1305@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-cbc",
  "aes256-cbc",
  "3des-cbc",
];

/** OpenSSH's default cipher list, in its order. */
export const DEFAULT_SSH_CIPHERS: readonly string[] = SUPPORTED_SSH_CIPHERS.slice(0, 6);

export const SUPPORTED_SSH_MACS: readonly string[] = [
  "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com",
  "hmac-sha2-256",
  "hmac-sha2-512",
  "hmac-sha1-etm@openssh.com",
  "hmac-sha1",
];

/**
 * OpenSSH's default MACs less umac-* (not in ssh2) and hmac-sha1* (SHA-1). The two encrypt-and-MAC ones stay
 * (ssh-audit warns, does not fail) for clients without -etm; with chacha20/AES-GCM no MAC is used at all.
 */
export const DEFAULT_SSH_MACS: readonly string[] = SUPPORTED_SSH_MACS.slice(0, 4);

/**
 * Compression, fixed: none. Plain `zlib` (which starts before authentication, so an anonymous peer reaches
 * the decompressor) is never offered. The delayed `zlib@openssh.com` is not offered either: ssh2's zlib
 * stream drives Node's internal zlib handle, which Deno does not have, and the session dies after login
 * ("invalid format" in OpenSSH, measured with `ssh -C`). Clients asking for compression get none.
 */
export const SSH_COMPRESSION: readonly string[] = ["none"];

export interface SshAlgorithms {
  kex: string[];
  ciphers: string[];
  macs: string[];
}

/** Why a configured list is not acceptable, or null. */
export function invalidAlgorithmList(list: string[], supported: readonly string[]): string | null {
  if (list.length === 0) return "needs at least one algorithm";
  const unknown = list.filter((a) => !supported.includes(a));
  if (unknown.length) {
    return `unsupported: ${unknown.join(", ")} (supported: ${supported.join(", ")})`;
  }
  const dup = list.find((a, i) => list.indexOf(a) !== i);
  return dup ? `${dup} is listed twice` : null;
}
