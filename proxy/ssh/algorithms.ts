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
 * ssh2's `algorithms` option towards backends (ssh2 is the client there, so this order decides). The same
 * set as offered to clients, so neither leg accepts what the other would not, with one change of order:
 * chacha20-poly1305 goes last. Without the addon it costs three node:crypto contexts per packet (never
 * finalised, freed only on garbage collection) where aes128-ctr keeps one per direction for the connection,
 * and aes128-ctr with hmac-sha2-256-etm measured cheaper per byte (bench/ssh/RESULTS.md).
 */
export function backendAlgorithms(a: SshAlgorithms = DEFAULT_ALGORITHMS) {
  registerMlkemKex();
  const chacha = "chacha20-poly1305@openssh.com";
  const cipher = [...a.ciphers.filter((c) => c !== chacha), ...a.ciphers.filter((c) => c === chacha)];
  return { kex: a.kex, cipher, hmac: a.macs, compress: [...SSH_COMPRESSION] };
}
