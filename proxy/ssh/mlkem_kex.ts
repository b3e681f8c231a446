// Adds mlkem768x25519-sha256 (hybrid_kex.ts) to npm:ssh2 1.17.0, on both legs, without editing
// node_modules. ssh2 has no pluggable key exchange: it creates an exchange object from a fixed switch of
// names. mlkem768x25519-sha256 runs exactly the message flow of curve25519-sha256 (one INIT, one REPLY
// with host key and signature) and differs only in the bytes of the two public values and in K, so ssh2
// runs it as a curve25519 exchange whose three methods (our public value, the peer's, the shared secret)
// are replaced. To get ssh2 there, names are aliased inside ssh2's negotiation only:
//   mlkem768x25519-sha256         -> curve25519-sha256@libssh.org
//   curve25519-sha256@libssh.org  -> curve25519-sha256          (the same algorithm under two names)
// The aliases apply to our offer's name array (the KEXINIT bytes we send keep the real names) and to a copy
// of the peer's KEXINIT that ssh2 negotiates with; the exchange hash is computed over the peer's real
// KEXINIT, which is put back on the exchange before it starts. Hooks, installed once on ssh2's classes:
//   - Protocol#_offer (setter): aliases the offer's kex names;
//   - Protocol#_decipher (setter): the first KEXINIT, which arrives through the NullDecipher;
//   - handlers[KEXINIT]: the peer's KEXINIT of every later exchange (a rekey either side starts: ssh2
//     installs its key-exchange handler only after that KEXINIT);
//   - Protocol#_kex (setter): turns the aliased curve25519 exchange into the hybrid one.
// The same Protocol#_cipher/_decipher setters pass ssh2's packet ciphers through ssh2_crypto.ts.
// Peers that identify as "Cisco-1.25" (ssh2's BAD_DHGEX quirk) are sent the alias names; they support
// neither curve25519 nor ML-KEM, so they never pick them. tests: mlkem_kex_test.ts, ssh_algorithms_test.ts.
import { replaceCipher } from "./ssh2_crypto.ts"; // first: hooks ssh2's packet crypto before ssh2 loads
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { MLKEM768X25519 } from "../../core/ssh_algorithms.ts";
import { HybridKexClient, hybridKexServer } from "./hybrid_kex.ts";

const CURVE = "curve25519-sha256";
const CURVE_LIBSSH = "curve25519-sha256@libssh.org";
/** real name -> the name ssh2 negotiates with */
export const KEX_ALIASES: Readonly<Record<string, string>> = {
  [MLKEM768X25519]: CURVE_LIBSSH,
  [CURVE_LIBSSH]: CURVE,
};
const KEXINIT = 20;

/** ssh2's negotiation names for a list of real names. */
export function aliasKexNames(names: readonly string[]): string[] {
  return names.map((n) => KEX_ALIASES[n] ?? n);
}

/**
 * A copy of a KEXINIT payload (type byte, 16-byte cookie, then the kex name-list) with the kex names
 * aliased, or null when it is malformed (ssh2 then rejects the original itself).
 */
export function aliasKexinit(payload: Uint8Array): Uint8Array | null {
  if (payload.length < 21 || payload[0] !== KEXINIT) return null;
  const len = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(17);
  if (21 + len > payload.length) return null;
  const names = new TextDecoder().decode(payload.subarray(21, 21 + len));
  const list = new TextEncoder().encode(aliasKexNames(names.split(",")).join(","));
  const out = Buffer.allocUnsafe(payload.length - len + list.length);
  out.set(payload.subarray(0, 17), 0);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(17, list.length);
  out.set(list, 21);
  out.set(payload.subarray(21 + len), 21 + list.length);
  return out;
}

// deno-lint-ignore no-explicit-any
type Untyped = any;
const ORIGINAL_KEXINIT = Symbol("peer KEXINIT before aliasing");
const ALIASED = Symbol("kex names aliased");
const OFFER = Symbol("offer");
const DECIPHER = Symbol("decipher");
const KEX = Symbol("kex");
const CIPHER = Symbol("cipher");

/** Aliases the peer's KEXINIT for ssh2's negotiation and remembers the original for the exchange hash. */
function aliasPeerKexinit(self: Untyped, payload: Uint8Array): Uint8Array {
  const aliased = payload[0] === KEXINIT ? aliasKexinit(payload) : null;
  if (aliased === null) return payload;
  self[ORIGINAL_KEXINIT] = payload;
  return aliased;
}

/** Turns ssh2's curve25519 exchange into mlkem768x25519-sha256 (called before its start()). */
function makeHybrid(kex: Untyped, isServer: boolean): void {
  kex.negotiated.kex = MLKEM768X25519;
  kex.hashName = "sha256";
  kex.type = "mlkem768x25519";
  let client: HybridKexClient | null = null;
  let reply: Uint8Array | null = null;
  kex.getPublicKey = () => {
    if (isServer) return reply === null ? undefined : Buffer.from(reply);
    client ??= new HybridKexClient();
    return Buffer.from(client.init);
  };
  kex.convertPublicKey = (peer: Uint8Array) => peer;
  // ssh2 encodes what this returns as a string in the exchange hash and the key derivation, as the
  // hybrid method wants (curve25519 returns an mpint's bytes there); an Error ends the handshake
  kex.computeSecret = (peer: Uint8Array) => {
    try {
      if (isServer) {
        const r = hybridKexServer(new Uint8Array(peer));
        reply = r.reply;
        return Buffer.from(r.secret);
      }
      client ??= new HybridKexClient();
      return Buffer.from(client.finish(new Uint8Array(peer)));
    } catch (e) {
      return e;
    }
  };
}

let registered = false;

/** Installs the hooks (idempotent; done when this module loads). */
export function registerMlkemKex(): void {
  if (registered) return;
  const require = createRequire(import.meta.url);
  const constants = require("ssh2/lib/protocol/constants.js");
  const Protocol = require("ssh2/lib/protocol/Protocol.js");
  const { NullDecipher } = require("ssh2/lib/protocol/crypto.js");
  const handlers: Untyped[] = require("ssh2/lib/protocol/handlers.js");
  if (
    !Array.isArray(constants.SUPPORTED_KEX) || typeof Protocol !== "function" ||
    typeof NullDecipher !== "function" || typeof handlers[KEXINIT] !== "function"
  ) {
    throw new Error(
      "npm:ssh2 internals changed: cannot add mlkem768x25519-sha256 (see proxy/ssh/mlkem_kex.ts)",
    );
  }
  registered = true;
  if (!constants.SUPPORTED_KEX.includes(MLKEM768X25519)) constants.SUPPORTED_KEX.push(MLKEM768X25519);

  const proto = Protocol.prototype;
  Object.defineProperty(proto, "_offer", {
    configurable: true,
    get(this: Untyped) {
      return this[OFFER];
    },
    set(this: Untyped, offer: Untyped) {
      const kex = offer?.lists?.kex;
      if (kex && !offer[ALIASED]) {
        kex.array = aliasKexNames(kex.array);
        offer[ALIASED] = true;
      }
      this[OFFER] = offer;
    },
  });
  Object.defineProperty(proto, "_decipher", {
    configurable: true,
    get(this: Untyped) {
      return this[DECIPHER];
    },
    set(this: Untyped, decipher: Untyped) {
      if (decipher instanceof NullDecipher && typeof decipher._onPayload === "function") {
        const onPayload = decipher._onPayload;
        decipher._onPayload = (payload: Uint8Array) => onPayload(aliasPeerKexinit(this, payload));
      }
      this[DECIPHER] = replaceCipher(decipher);
    },
  });
  Object.defineProperty(proto, "_kex", {
    configurable: true,
    get(this: Untyped) {
      return this[KEX];
    },
    set(this: Untyped, kex: Untyped) {
      const original = this[ORIGINAL_KEXINIT];
      if (kex && original) {
        this[ORIGINAL_KEXINIT] = undefined;
        kex._remoteKexinit = original;
        if (kex.negotiated?.kex === CURVE_LIBSSH) makeHybrid(kex, !!this._server);
      }
      this[KEX] = kex;
    },
  });
  // not the key exchange: ssh2's packet ciphers replaced (ssh2_crypto.ts), on the same hooks
  Object.defineProperty(proto, "_cipher", {
    configurable: true,
    get(this: Untyped) {
      return this[CIPHER];
    },
    set(this: Untyped, cipher: Untyped) {
      this[CIPHER] = replaceCipher(cipher);
    },
  });
  const handleKexInit = handlers[KEXINIT];
  handlers[KEXINIT] = (self: Untyped, payload: Uint8Array) =>
    handleKexInit(self, aliasPeerKexinit(self, payload));
}

// at load: every ssh2 connection of the process, created after this module is imported, goes through the
// hooks (one created earlier would negotiate its first exchange unaliased, and fail a later one)
registerMlkemKex();
