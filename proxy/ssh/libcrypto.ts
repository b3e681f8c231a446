// OpenSSL's libcrypto (Debian's libssl3) through Deno FFI, for the SSH proxy's packet ciphers and MACs
// (openssl_ciphers.ts). Deno's node:crypto costs a context per GCM packet and ~450 MiB/s for AES; the same
// EVP calls made directly run at several GiB/s with AES-NI. Loaded once per isolate when this module is
// evaluated (a library opened inside a test would trip the resource sanitizer). If it cannot be loaded, or
// JUMPHOST_SSH_CRYPTO=node asks for it, the proxy keeps node:crypto and says so in one log line.

const SYMBOLS = {
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_aes_128_ctr: { parameters: [], result: "pointer" },
  EVP_aes_192_ctr: { parameters: [], result: "pointer" },
  EVP_aes_256_ctr: { parameters: [], result: "pointer" },
  EVP_chacha20: { parameters: [], result: "pointer" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_sha512: { parameters: [], result: "pointer" },
  EVP_sha1: { parameters: [], result: "pointer" },
  HMAC_CTX_new: { parameters: [], result: "pointer" },
  HMAC_CTX_free: { parameters: ["pointer"], result: "void" },
  HMAC_Init_ex: { parameters: ["pointer", "buffer", "i32", "pointer", "pointer"], result: "i32" },
  HMAC_Update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  HMAC_Final: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_MAC_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_MAC_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_CTX_new: { parameters: ["pointer"], result: "pointer" },
  EVP_MAC_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_init: { parameters: ["pointer", "buffer", "usize", "pointer"], result: "i32" },
  EVP_MAC_update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_MAC_final: { parameters: ["pointer", "buffer", "buffer", "usize"], result: "i32" },
  CRYPTO_memcmp: { parameters: ["buffer", "buffer", "usize"], result: "i32" },
} as const;

export type LibCrypto = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** EVP_CIPHER_CTX_ctrl operations (openssl/evp.h). */
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
export const EVP_CTRL_AEAD_SET_TAG = 0x11;
export const EVP_CTRL_AEAD_SET_IV_FIXED = 0x12;
export const EVP_CTRL_GCM_IV_GEN = 0x13;

/** The environment variable that forces node:crypto (`node`) for the SSH packet crypto. */
export const SSH_CRYPTO_ENV = "JUMPHOST_SSH_CRYPTO";
const LIBRARY = "libcrypto.so.3";

export interface CryptoBackend {
  /** "openssl" when packets go through libcrypto, else "node:crypto" */
  name: "openssl" | "node:crypto";
  /** the library's version line, or why node:crypto is in use */
  detail: string;
}

let lib: LibCrypto | null = null;
let poly1305Mac: Deno.PointerValue = null;

function load(): CryptoBackend {
  let forced: string | undefined;
  try {
    forced = Deno.env.get(SSH_CRYPTO_ENV);
  } catch (_e) {
    forced = undefined; // no env permission: the default
  }
  if (forced === "node") return { name: "node:crypto", detail: `${SSH_CRYPTO_ENV}=node` };
  try {
    const dl = Deno.dlopen(LIBRARY, SYMBOLS);
    const s = dl.symbols;
    const mac = s.EVP_MAC_fetch(null, new TextEncoder().encode("POLY1305\0"), null);
    if (mac === null) {
      dl.close();
      return { name: "node:crypto", detail: `${LIBRARY} has no POLY1305 MAC` };
    }
    lib = s;
    poly1305Mac = mac;
    const v = s.OpenSSL_version(0);
    const version = v === null ? LIBRARY : new Deno.UnsafePointerView(v).getCString();
    return { name: "openssl", detail: version };
  } catch (e) {
    return { name: "node:crypto", detail: `${LIBRARY} not loadable: ${(e as Error).message.split("\n")[0]}` };
  }
}
const backend: CryptoBackend = load();

/** The loaded library, or null when node:crypto is in use. */
export function libcrypto(): LibCrypto | null {
  return lib;
}

/** OpenSSL's Poly1305 EVP_MAC (fetched once), or null. */
export function poly1305EvpMac(): Deno.PointerValue {
  return poly1305Mac;
}

/** Which implementation the SSH packet crypto of this isolate uses (doctor, the proxy's start log). */
export function cryptoBackend(): CryptoBackend {
  return backend;
}
