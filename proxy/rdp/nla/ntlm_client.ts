/**
 * The NTLM initiator (client side of MS-NLMP, NTLMv2 only): NEGOTIATE, then AUTHENTICATE for the
 * server's CHALLENGE with a MIC, key exchange and 128-bit sealing.
 */
import { ntHash as ntHashOf, randomBytesU8 } from "./crypto.ts";
import { NlaError } from "./errors.ts";
import {
  computeMic,
  fileTime,
  NtlmSealer,
  ntlmV2Responses,
  ntlmV2Temp,
  ntowfv2,
  sessionSecurity,
} from "./ntlm_crypto.ts";
import {
  AUTHENTICATE_MIC_OFFSET,
  AV_EOL,
  AV_FLAG_MIC_PRESENT,
  AV_FLAGS,
  AV_TIMESTAMP,
  type AvPair,
  avValue,
  encodeAuthenticate,
  encodeAvPairs,
  encodeNegotiate,
  NEGOTIATE_128,
  NEGOTIATE_56,
  NEGOTIATE_ALWAYS_SIGN,
  NEGOTIATE_EXTENDED_SESSIONSECURITY,
  NEGOTIATE_KEY_EXCH,
  NEGOTIATE_NTLM,
  NEGOTIATE_SEAL,
  NEGOTIATE_SIGN,
  NEGOTIATE_UNICODE,
  NEGOTIATE_VERSION,
  OUR_VERSION,
  parseAvPairs,
  parseChallenge,
  REQUEST_TARGET,
} from "./ntlm_messages.ts";
import { rc4 } from "./rc4.ts";

export interface NtlmClientOptions {
  user: string;
  domain: string;
  /** The password, or its NT hash. */
  password?: string;
  ntHash?: Uint8Array;
  workstation?: string;
  random?: (n: number) => Uint8Array;
  now?: () => number;
}

export interface NtlmClientSession {
  exportedSessionKey: Uint8Array;
  /** Client-side message security: outgoing = client-to-server, incoming = server-to-client. */
  outgoing: NtlmSealer;
  incoming: NtlmSealer;
}

export const CLIENT_FLAGS =
  (NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_SIGN | NEGOTIATE_SEAL | NEGOTIATE_NTLM |
    NEGOTIATE_ALWAYS_SIGN | NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_VERSION | NEGOTIATE_128 |
    NEGOTIATE_KEY_EXCH | NEGOTIATE_56) >>> 0;

export class NtlmClient {
  #negotiate: Uint8Array | null = null;
  readonly #o: NtlmClientOptions & { random: (n: number) => Uint8Array; now: () => number };
  readonly #hash: Uint8Array;

  constructor(opts: NtlmClientOptions) {
    this.#o = { random: randomBytesU8, now: Date.now, ...opts };
    const h = opts.ntHash ?? (opts.password !== undefined ? ntHashOf(opts.password) : null);
    if (!h || h.length !== 16) {
      throw new NlaError("protocol", "NTLM client needs a password or a 16-byte NT hash");
    }
    this.#hash = h;
  }

  negotiate(): Uint8Array {
    this.#negotiate = encodeNegotiate({
      flags: CLIENT_FLAGS,
      domain: new Uint8Array(0),
      workstation: new Uint8Array(0),
      version: OUR_VERSION,
    });
    return this.#negotiate;
  }

  /** CHALLENGE in, AUTHENTICATE out (with the session security for what follows). */
  authenticate(challengeBytes: Uint8Array): { message: Uint8Array; session: NtlmClientSession } {
    if (!this.#negotiate) throw new NlaError("protocol", "NTLM CHALLENGE before NEGOTIATE");
    const ch = parseChallenge(challengeBytes);
    const need = NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_SEAL | NEGOTIATE_UNICODE;
    if ((ch.flags & need) !== need) {
      throw new NlaError(
        "unsupported",
        `NTLM server lacks extended session security/128-bit sealing/unicode`,
      );
    }
    const flags = (ch.flags & CLIENT_FLAGS) >>> 0;
    const pairs: AvPair[] = parseAvPairs(ch.targetInfo).filter((p) => p.id !== AV_EOL && p.id !== AV_FLAGS);
    const serverTime = avValue(pairs, AV_TIMESTAMP);
    const oldFlags = avValue(parseAvPairs(ch.targetInfo), AV_FLAGS);
    const avFlags =
      (oldFlags && oldFlags.length >= 4
        ? new DataView(oldFlags.buffer, oldFlags.byteOffset, 4).getUint32(0, true)
        : 0) | (serverTime ? AV_FLAG_MIC_PRESENT : 0);
    if (avFlags) {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, avFlags >>> 0, true);
      pairs.push({ id: AV_FLAGS, value: v });
    }
    const o = this.#o;
    const clientChallenge = o.random(8);
    const temp = ntlmV2Temp(serverTime ?? fileTime(o.now()), clientChallenge, encodeAvPairs(pairs));
    const key = ntowfv2(this.#hash, o.user, o.domain);
    const r = ntlmV2Responses(key, ch.serverChallenge, clientChallenge, temp);
    const keyExch = (flags & NEGOTIATE_KEY_EXCH) !== 0;
    const exportedSessionKey = keyExch ? o.random(16) : r.sessionBaseKey;
    const message = encodeAuthenticate({
      flags,
      // With a server timestamp, LmChallengeResponse is Z(24) (MS-NLMP 3.1.5.1.2).
      lmResponse: serverTime ? new Uint8Array(24) : r.lmResponse,
      ntResponse: r.ntResponse,
      domain: o.domain,
      user: o.user,
      workstation: o.workstation ?? "",
      encryptedRandomSessionKey: keyExch ? rc4(r.sessionBaseKey, exportedSessionKey) : new Uint8Array(0),
      version: OUR_VERSION,
    });
    if (serverTime) {
      message.set(
        computeMic(exportedSessionKey, this.#negotiate, challengeBytes, message),
        AUTHENTICATE_MIC_OFFSET,
      );
    }
    const sec = sessionSecurity(exportedSessionKey, "client");
    return { message, session: { exportedSessionKey, ...sec } };
  }
}
