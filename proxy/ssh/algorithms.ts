// The algorithm offers of both legs of the proxy, from the configured lists (core/ssh_algorithms.ts).
// Packets are encrypted by OpenSSL's libcrypto through FFI (openssl_ciphers.ts), or by Deno's node:crypto
// when it cannot be loaded; the cipher choice changes the proxy's CPU per byte relayed.
import {
  DEFAULT_SSH_CIPHERS,
  DEFAULT_SSH_KEX,
  DEFAULT_SSH_MACS,
  SSH_COMPRESSION,
  type SshAlgorithms,
} from "../../core/ssh_algorithms.ts";
import { registerMlkemKex } from "./mlkem_kex.ts";
import { poly1305Ready } from "./chacha20_poly1305.ts";
import { libcrypto } from "./libcrypto.ts";

/** Resolves when every algorithm is ready to run (chacha20-poly1305's Poly1305 loads asynchronously). */
export const algorithmsReady: Promise<void> = poly1305Ready;

export const DEFAULT_ALGORITHMS: SshAlgorithms = {
  kex: [...DEFAULT_SSH_KEX],
  ciphers: [...DEFAULT_SSH_CIPHERS],
  macs: [...DEFAULT_SSH_MACS],
};

/** ssh2's `algorithms` option: what the listener offers clients (the client's order decides there). */
export function serverAlgorithms(a: SshAlgorithms = DEFAULT_ALGORITHMS) {
  registerMlkemKex();
  return { kex: a.kex, cipher: a.ciphers, hmac: a.macs, compress: [...SSH_COMPRESSION] };
}

/** `ciphers` with the AES-GCM ones (if configured) moved to the front, each group in its own order. */
export function preferAesGcm(ciphers: readonly string[]): string[] {
  const gcm = ciphers.filter((c) => c.startsWith("aes") && c.includes("-gcm"));
  return [...gcm, ...ciphers.filter((c) => !gcm.includes(c))];
}

/**
 * ssh2's `algorithms` option towards backends (ssh2 is the client there, so this order decides): the same
 * lists, so neither leg accepts what the other would not. With libcrypto, AES-GCM goes first: one packet
 * sealed and opened costs 17 µs per 32 KiB there against 29 for chacha20-poly1305 (bench/ssh/crypto_micro.ts),
 * and OpenSSH's sshd has AES-NI too. With node:crypto, chacha20-poly1305 (chacha20_poly1305.ts) is the
 * fastest (430 MiB/s per direction against 220 for aes128-ctr + hmac-sha2-256-etm): OpenSSH's order stands.
 */
export function backendAlgorithms(a: SshAlgorithms = DEFAULT_ALGORITHMS) {
  registerMlkemKex();
  const cipher = libcrypto() === null ? a.ciphers : preferAesGcm(a.ciphers);
  return { kex: a.kex, cipher, hmac: a.macs, compress: [...SSH_COMPRESSION] };
}
