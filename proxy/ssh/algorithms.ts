// The algorithm offers of both legs of the proxy, from the configured lists (core/ssh_algorithms.ts).
// Without ssh2's native addon (it cannot load in Deno) every cipher runs through Deno's node:crypto, where
// the choice changes the proxy's CPU per byte relayed.
import {
  DEFAULT_SSH_CIPHERS,
  DEFAULT_SSH_KEX,
  DEFAULT_SSH_MACS,
  SSH_COMPRESSION,
  type SshAlgorithms,
} from "../../core/ssh_algorithms.ts";
import { registerMlkemKex } from "./mlkem_kex.ts";
import { poly1305Ready } from "./chacha20_poly1305.ts";

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

/**
 * ssh2's `algorithms` option towards backends (ssh2 is the client there, so this order decides): the same
 * lists, so neither leg accepts what the other would not. chacha20-poly1305 (chacha20_poly1305.ts) measured
 * 430 MiB/s per direction in the proxy against 220 for aes128-ctr + hmac-sha2-256-etm, so OpenSSH's order
 * stands here too.
 */
export function backendAlgorithms(a: SshAlgorithms = DEFAULT_ALGORITHMS) {
  registerMlkemKex();
  return { kex: a.kex, cipher: a.ciphers, hmac: a.macs, compress: [...SSH_COMPRESSION] };
}
