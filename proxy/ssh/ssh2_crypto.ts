// Puts openssl_ciphers.ts behind npm:ssh2's packet crypto, without editing node_modules. Two hooks:
//  - crypto.js's createCipher/createDecipher exports are wrapped when this module is evaluated. kex.js
//    destructures them when it loads, so this must run before ssh2's main module loads kex.js: every module
//    of ours that loads ssh2 imports this one first (ssh2_types.ts, mlkem_kex.ts; keys/ssh2_keys.ts loads
//    only the key parser). It then covers every cipher libcrypto handles.
//  - the Protocol#_cipher/_decipher setters (mlkem_kex.ts) pass every new cipher through replaceCipher():
//    if ssh2 was loaded first anyway (a test importing "ssh2" before us), AES-GCM and chacha20-poly1305,
//    whose keys ssh2's classes keep, are still moved to libcrypto; AES-CTR then stays on node:crypto.
// Without libcrypto (libcrypto.ts) ssh2's own classes stay, except its chacha20-poly1305, replaced by
// chacha20_poly1305.ts.
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { cryptoBackend, libcrypto } from "./libcrypto.ts";
import {
  type InboundConfig,
  OsslCipher,
  OsslDecipher,
  osslKind,
  type OutboundConfig,
} from "./openssl_ciphers.ts";
import { replaceChacha } from "./chacha20_poly1305.ts";

// deno-lint-ignore no-explicit-any
type Untyped = any;

const require = createRequire(import.meta.url);
const cryptoJs = require("ssh2/lib/protocol/crypto.js");
const kexLoadedFirst = (() => {
  try {
    return !!require.cache?.[require.resolve("ssh2/lib/protocol/kex.js")];
  } catch (_e) {
    return false; // no module cache to ask (only the start log's detail depends on it)
  }
})();
const PATCHED = Symbol.for("jumphost.ssh2_crypto");

if (!cryptoJs[PATCHED]) {
  const createCipher = cryptoJs.createCipher;
  const createDecipher = cryptoJs.createDecipher;
  cryptoJs[PATCHED] = { createCipher, createDecipher };
  cryptoJs.createCipher = (config: { outbound: OutboundConfig }) => {
    const s = libcrypto();
    const o = config?.outbound;
    if (s && o && osslKind(o.cipherInfo, o.macInfo)) return new OsslCipher(s, o);
    return createCipher(config);
  };
  cryptoJs.createDecipher = (config: { inbound: InboundConfig }) => {
    const s = libcrypto();
    const i = config?.inbound;
    if (s && i && osslKind(i.decipherInfo, i.macInfo)) return new OsslDecipher(s, i);
    return createDecipher(config);
  };
}

/** ssh2's own createCipher/createDecipher (node:crypto), for equivalence tests. */
export const ssh2Crypto: {
  createCipher(config: { outbound: Untyped }): Untyped;
  createDecipher(config: { inbound: Untyped }): Untyped;
  CIPHER_INFO: Record<string, Untyped>;
  MAC_INFO: Record<string, Untyped>;
  init: Promise<void>;
} = {
  ...cryptoJs[PATCHED],
  CIPHER_INFO: cryptoJs.CIPHER_INFO,
  MAC_INFO: cryptoJs.MAC_INFO,
  init: cryptoJs.init,
};

/** What the SSH packet crypto runs on in this isolate, for the proxy's start log and doctor. */
export function sshCryptoSummary(): { backend: "openssl" | "node:crypto"; detail: string } {
  const b = cryptoBackend();
  if (b.name === "openssl" && kexLoadedFirst) {
    return { backend: "openssl", detail: `${b.detail} (AES-CTR on node:crypto: ssh2 was loaded first)` };
  }
  return { backend: b.name, detail: b.detail };
}

/**
 * A cipher or decipher ssh2 just installed, replaced where it is ssh2's own and libcrypto (else the
 * pure chacha20-poly1305) can take it with the same keys and sequence number.
 */
export function replaceCipher(c: Untyped): Untyped {
  const s = libcrypto();
  if (s === null) return replaceChacha(c);
  switch (c?.constructor?.name) {
    case "AESGCMCipherNative": {
      const name = c._encSSLName;
      const info = {
        sslName: name,
        blockLen: 16,
        keyLen: c._encKey.length,
        ivLen: 12,
        authLen: 16,
        discardLen: 0,
      };
      return new OsslCipher(s, {
        onWrite: c._onWrite,
        seqno: c.outSeqno,
        cipherInfo: info,
        cipherKey: c._encKey,
        cipherIV: c._encIV,
      });
    }
    case "AESGCMDecipherNative": {
      if (c._lenBytes !== 0) return c; // mid-packet: leave it
      const name = c._decipherSSLName;
      const info = {
        sslName: name,
        blockLen: 16,
        keyLen: c._decipherKey.length,
        ivLen: 12,
        authLen: 16,
        discardLen: 0,
      };
      return new OsslDecipher(s, {
        onPayload: c._onPayload,
        seqno: c.inSeqno,
        decipherInfo: info,
        decipherKey: c._decipherKey,
        decipherIV: c._decipherIV,
      });
    }
    case "ChaChaPolyCipherNative": {
      const info = { sslName: "chacha20", blockLen: 8, keyLen: 64, ivLen: 0, authLen: 16, discardLen: 0 };
      return new OsslCipher(s, {
        onWrite: c._onWrite,
        seqno: c.outSeqno,
        cipherInfo: info,
        cipherKey: Buffer.concat([c._encKeyMain, c._encKeyPktLen]),
        cipherIV: Buffer.alloc(0),
      });
    }
    case "ChaChaPolyDecipherNative": {
      if (c._lenPos !== 0) return c;
      const info = { sslName: "chacha20", blockLen: 8, keyLen: 64, ivLen: 0, authLen: 16, discardLen: 0 };
      return new OsslDecipher(s, {
        onPayload: c._onPayload,
        seqno: c.inSeqno,
        decipherInfo: info,
        decipherKey: Buffer.concat([c._decKeyMain, c._decKeyPktLen]),
        decipherIV: Buffer.alloc(0),
      });
    }
  }
  return c;
}
