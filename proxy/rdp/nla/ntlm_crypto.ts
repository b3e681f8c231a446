/**
 * NTLMv2 computations of MS-NLMP 3.3.2 (responses, session base key), 3.4.5 (KXKEY, SIGNKEY,
 * SEALKEY) and the message security of 3.4.3/3.4.4 (SEAL, MAC with extended session security and
 * key exchange) — what CredSSP uses to protect pubKeyAuth and authInfo.
 */
import { ByteWriter, concat } from "../pdu/reader.ts";
import { equalBytes, hmacMd5, md5, utf16le } from "./crypto.ts";
import { Rc4 } from "./rc4.ts";

/** NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) + UserDom)). */
export function ntowfv2(ntHash: Uint8Array, user: string, domain: string): Uint8Array {
  return hmacMd5(ntHash, utf16le(user.toUpperCase() + domain));
}

/** temp = 01 01 Z(6) Time ClientChallenge Z(4) AvPairs Z(4) — the blob after NTProofStr. */
export function ntlmV2Temp(
  timestamp: Uint8Array,
  clientChallenge: Uint8Array,
  avPairs: Uint8Array,
): Uint8Array {
  return new ByteWriter(48 + avPairs.length)
    .u8(1).u8(1).zeros(6).bytes(timestamp).bytes(clientChallenge).zeros(4).bytes(avPairs).zeros(4)
    .finish();
}

export interface NtlmV2Responses {
  ntProofStr: Uint8Array;
  /** NTProofStr + temp. */
  ntResponse: Uint8Array;
  /** LMv2: HMAC_MD5(key, ServerChallenge + ClientChallenge) + ClientChallenge. */
  lmResponse: Uint8Array;
  sessionBaseKey: Uint8Array;
}

export function ntlmV2Responses(
  responseKey: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
  temp: Uint8Array,
): NtlmV2Responses {
  const ntProofStr = hmacMd5(responseKey, serverChallenge, temp);
  return {
    ntProofStr,
    ntResponse: concat(ntProofStr, temp),
    lmResponse: concat(hmacMd5(responseKey, serverChallenge, clientChallenge), clientChallenge),
    sessionBaseKey: hmacMd5(responseKey, ntProofStr),
  };
}

const magic = (s: string) => new TextEncoder().encode(`session key to ${s} key magic constant\0`);
const C2S_SIGN = magic("client-to-server signing");
const S2C_SIGN = magic("server-to-client signing");
const C2S_SEAL = magic("client-to-server sealing");
const S2C_SEAL = magic("server-to-client sealing");

export function signKey(exportedSessionKey: Uint8Array, direction: "client" | "server"): Uint8Array {
  return md5(exportedSessionKey, direction === "client" ? C2S_SIGN : S2C_SIGN);
}
/** SEALKEY for NTLMSSP_NEGOTIATE_128 (the only strength this implementation negotiates). */
export function sealKey(exportedSessionKey: Uint8Array, direction: "client" | "server"): Uint8Array {
  return md5(exportedSessionKey, direction === "client" ? C2S_SEAL : S2C_SEAL);
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with a zeroed MIC). */
export function computeMic(
  exportedSessionKey: Uint8Array,
  negotiate: Uint8Array,
  challenge: Uint8Array,
  authenticateZeroMic: Uint8Array,
): Uint8Array {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticateZeroMic);
}

/**
 * One direction of NTLM message security (extended session security, key exchange): a sealing RC4
 * stream, the signing key and the sequence number. The signature's checksum is encrypted with the
 * same RC4 stream, after the message.
 */
export class NtlmSealer {
  #rc4: Rc4;
  #seq = 0;
  constructor(readonly sealKey: Uint8Array, readonly signKey: Uint8Array) {
    this.#rc4 = new Rc4(sealKey);
  }

  get sequence(): number {
    return this.#seq;
  }

  /** The RC4 stream restarts (Windows does this after SPNEGO's mechListMIC); the sequence goes on. */
  resetRc4(): void {
    this.#rc4 = new Rc4(this.sealKey);
  }

  #signature(message: Uint8Array): Uint8Array {
    const seq = new ByteWriter(4).u32le(this.#seq).finish();
    const checksum = this.#rc4.update(hmacMd5(this.signKey, seq, message).subarray(0, 8));
    this.#seq = (this.#seq + 1) >>> 0;
    return new ByteWriter(16).u32le(1).bytes(checksum).bytes(seq).finish();
  }

  /** GSS_WrapEx: returns signature (16 bytes) + sealed message, the layout CredSSP carries. */
  seal(message: Uint8Array): Uint8Array {
    const sealed = this.#rc4.update(message);
    return concat(this.#signature(message), sealed);
  }

  /** GSS_GetMICEx: the 16-byte signature alone (SPNEGO mechListMIC). */
  sign(message: Uint8Array): Uint8Array {
    return this.#signature(message);
  }

  /** GSS_UnwrapEx of signature + sealed data; null when the signature does not verify. */
  unseal(wrapped: Uint8Array): Uint8Array | null {
    if (wrapped.length < 16) return null;
    const message = this.#rc4.update(wrapped.subarray(16));
    const expected = this.#signature(message);
    return equalBytes(expected, wrapped.subarray(0, 16)) ? message : null;
  }

  /** GSS_VerifyMICEx. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return equalBytes(this.#signature(message), signature);
  }
}

/** Both directions, from the exported session key, for one side of the conversation. */
export function sessionSecurity(
  exportedSessionKey: Uint8Array,
  side: "client" | "server",
): { outgoing: NtlmSealer; incoming: NtlmSealer } {
  const other = side === "client" ? "server" : "client";
  return {
    outgoing: new NtlmSealer(sealKey(exportedSessionKey, side), signKey(exportedSessionKey, side)),
    incoming: new NtlmSealer(sealKey(exportedSessionKey, other), signKey(exportedSessionKey, other)),
  };
}

/** FILETIME (100 ns since 1601-01-01) as 8 bytes little-endian. */
export function fileTime(ms: number): Uint8Array {
  const t = (BigInt(Math.floor(ms)) + 11644473600000n) * 10000n;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, t, true);
  return out;
}
export function fileTimeToMs(b: Uint8Array): number {
  const t = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return Number(t / 10000n) - 11644473600000;
}
