// The slice of npm:ssh2 (which ships no types) that reads and makes key pairs, typed at the boundary: the
// backend key store and the SSH proxy both use it. Only the key modules are loaded, not ssh2's main module:
// the SSH proxy's packet crypto hook (proxy/ssh/ssh2_crypto.ts) must be in place before ssh2's protocol loads.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const lib: any = {
  utils: { parseKey: require("ssh2/lib/protocol/keyParser.js").parseKey, ...require("ssh2/lib/keygen.js") },
};

export interface ParsedKey {
  type: string;
  comment: string;
  getPublicSSH(): Uint8Array;
  verify(data: Uint8Array, signature: Uint8Array, hashAlgo?: string): boolean | Error;
  isPrivateKey(): boolean;
}

export const parseKey = (data: Uint8Array | string): ParsedKey | Error => lib.utils.parseKey(data);
/**
 * A new key pair in OpenSSH format. ssh2 1.17 drops a leading zero byte of an ed25519 public key, so about
 * one key in 256 comes out malformed: such a key is discarded and another generated.
 */
export function generateKeyPairSync(type: "ed25519", comment?: string): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const k = lib.utils.generateKeyPairSync(type, comment === undefined ? undefined : { comment });
    if (!(parseKey(k.private) instanceof Error)) return k;
  }
  throw new Error("could not generate a valid key pair");
}
