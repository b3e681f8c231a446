/**
 * The NTLM acceptor (server side of MS-NLMP, NTLMv2 only): answers NEGOTIATE with a CHALLENGE and
 * verifies the AUTHENTICATE against the user's NT hash, which an injected lookup provides.
 */
import { ensure } from "../pdu/errors.ts";
import { equalBytes, hmacMd5, randomBytesU8, utf16le } from "./crypto.ts";
import { NlaError } from "./errors.ts";
import { computeMic, fileTime, fileTimeToMs, NtlmSealer, ntowfv2, sessionSecurity } from "./ntlm_crypto.ts";
import {
  AUTHENTICATE_MIC_OFFSET,
  AV_DNS_COMPUTER_NAME,
  AV_DNS_DOMAIN_NAME,
  AV_FLAG_MIC_PRESENT,
  AV_FLAGS,
  AV_NB_COMPUTER_NAME,
  AV_NB_DOMAIN_NAME,
  AV_TIMESTAMP,
  avValue,
  encodeAvPairs,
  encodeChallenge,
  NEGOTIATE_128,
  NEGOTIATE_56,
  NEGOTIATE_ALWAYS_SIGN,
  NEGOTIATE_EXTENDED_SESSIONSECURITY,
  NEGOTIATE_KEY_EXCH,
  NEGOTIATE_NTLM,
  NEGOTIATE_SEAL,
  NEGOTIATE_SIGN,
  NEGOTIATE_TARGET_INFO,
  NEGOTIATE_UNICODE,
  NEGOTIATE_VERSION,
  OUR_VERSION,
  parseAuthenticate,
  parseNegotiate,
  parseNtlmV2ClientChallenge,
  REQUEST_TARGET,
  TARGET_TYPE_SERVER,
} from "./ntlm_messages.ts";
import { rc4 } from "./rc4.ts";

/** The NT hash of (user, domain) as typed by the client, or null when there is no such account. */
export type NtHashLookup = (user: string, domain: string) => Promise<Uint8Array | null>;

export interface NtlmServerOptions {
  /** NetBIOS names announced in the CHALLENGE's target info (clients show/need them). */
  netbiosDomain?: string;
  netbiosComputer?: string;
  dnsDomain?: string;
  dnsComputer?: string;
  random?: (n: number) => Uint8Array;
  now?: () => number;
  /** The NTLMv2 timestamp may differ from now by this much (MS-NLMP MaxLifetime: 36 hours). */
  maxClockSkewMs?: number;
}

export interface NtlmAuthenticated {
  user: string;
  domain: string;
  workstation: string;
  exportedSessionKey: Uint8Array;
  /** Server-side message security: outgoing = server-to-client, incoming = client-to-server. */
  outgoing: NtlmSealer;
  incoming: NtlmSealer;
  micPresent: boolean;
  /** The NT hash the proof was verified with (to check the delegated password against). */
  ntHash: Uint8Array;
}

const REQUIRED = NEGOTIATE_UNICODE | NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_SEAL |
  NEGOTIATE_SIGN;
const OPTIONAL = NEGOTIATE_KEY_EXCH | NEGOTIATE_56 | NEGOTIATE_ALWAYS_SIGN;

export class NtlmServer {
  #negotiate: Uint8Array | null = null;
  #challenge: Uint8Array | null = null;
  #serverChallenge: Uint8Array | null = null;
  #flags = 0;
  readonly #o: Required<NtlmServerOptions>;

  constructor(opts: NtlmServerOptions = {}) {
    this.#o = {
      netbiosDomain: "JUMPHOST",
      netbiosComputer: "JUMPHOST",
      dnsDomain: "",
      dnsComputer: "",
      random: randomBytesU8,
      now: Date.now,
      maxClockSkewMs: 36 * 3600_000,
      ...opts,
    };
  }

  /** NEGOTIATE in, CHALLENGE out. Throws RdpParseError (malformed) or NlaError("unsupported"). */
  challenge(negotiate: Uint8Array): Uint8Array {
    const n = parseNegotiate(negotiate);
    if ((n.flags & REQUIRED) !== REQUIRED) {
      throw new NlaError(
        "unsupported",
        `NTLM client lacks unicode/extended session security/128-bit sealing (flags 0x${
          (n.flags >>> 0).toString(16)
        })`,
      );
    }
    this.#flags = (REQUIRED | (n.flags & OPTIONAL) | NEGOTIATE_NTLM | REQUEST_TARGET | NEGOTIATE_TARGET_INFO |
      NEGOTIATE_VERSION | TARGET_TYPE_SERVER) >>> 0;
    this.#serverChallenge = this.#o.random(8);
    const o = this.#o;
    const pairs = [
      { id: AV_NB_DOMAIN_NAME, value: utf16le(o.netbiosDomain) },
      { id: AV_NB_COMPUTER_NAME, value: utf16le(o.netbiosComputer) },
      { id: AV_DNS_DOMAIN_NAME, value: utf16le(o.dnsDomain || o.netbiosDomain.toLowerCase()) },
      { id: AV_DNS_COMPUTER_NAME, value: utf16le(o.dnsComputer || o.netbiosComputer.toLowerCase()) },
      { id: AV_TIMESTAMP, value: fileTime(o.now()) },
    ];
    this.#negotiate = negotiate.slice();
    this.#challenge = encodeChallenge({
      flags: this.#flags,
      targetName: utf16le(o.netbiosDomain),
      serverChallenge: this.#serverChallenge,
      targetInfo: encodeAvPairs(pairs),
      version: OUR_VERSION,
    });
    return this.#challenge;
  }

  /**
   * Verify AUTHENTICATE. Resolves with the authenticated names and session keys; rejects with
   * NlaError (logon_failure, integrity, unsupported, lookup, protocol) or RdpParseError.
   */
  async authenticate(message: Uint8Array, lookup: NtHashLookup): Promise<NtlmAuthenticated> {
    if (!this.#challenge || !this.#serverChallenge || !this.#negotiate) {
      throw new NlaError("protocol", "NTLM AUTHENTICATE before CHALLENGE");
    }
    const a = parseAuthenticate(message);
    if (a.ntResponse.length <= 24) throw new NlaError("unsupported", "NTLMv1 or anonymous authentication");
    if (a.user === "") throw new NlaError("logon_failure", "anonymous NTLM logon");
    const temp = a.ntResponse.subarray(16);
    const blob = parseNtlmV2ClientChallenge(temp);
    const skew = Math.abs(fileTimeToMs(blob.timestamp) - this.#o.now());
    let hash: Uint8Array | null;
    try {
      hash = await lookup(a.user, a.domain);
    } catch (e) {
      throw new NlaError("lookup", `NT hash lookup failed: ${(e as Error).message}`, { cause: e });
    }
    ensure(hash === null || hash.length === 16, "invalid", "NT hash is not 16 bytes");
    // Unknown users cost the same work as wrong passwords.
    const responseKey = ntowfv2(hash ?? new Uint8Array(16), a.user, a.domain);
    const proof = hmacMd5(responseKey, this.#serverChallenge, temp);
    if (hash === null || !equalBytes(proof, a.ntResponse.subarray(0, 16))) {
      throw new NlaError("logon_failure", hash === null ? "unknown user" : "wrong password");
    }
    if (skew > this.#o.maxClockSkewMs) throw new NlaError("logon_failure", "NTLMv2 timestamp out of range");
    const sessionBaseKey = hmacMd5(responseKey, proof);
    const keyExch = (this.#flags & NEGOTIATE_KEY_EXCH) !== 0;
    if (keyExch && a.encryptedRandomSessionKey.length !== 16) {
      throw new NlaError("protocol", "key exchange negotiated but no encrypted session key");
    }
    const exportedSessionKey = keyExch ? rc4(sessionBaseKey, a.encryptedRandomSessionKey) : sessionBaseKey;
    const avFlags = avValue(blob.avPairs, AV_FLAGS);
    const micPresent = avFlags !== null && avFlags.length >= 4 && (avFlags[0] & AV_FLAG_MIC_PRESENT) !== 0;
    if (micPresent) {
      if (!a.micField) throw new NlaError("integrity", "MIC announced but absent");
      const zeroed = message.slice();
      zeroed.fill(0, AUTHENTICATE_MIC_OFFSET, AUTHENTICATE_MIC_OFFSET + 16);
      const mic = computeMic(exportedSessionKey, this.#negotiate, this.#challenge, zeroed);
      if (!equalBytes(mic, a.micField)) throw new NlaError("integrity", "NTLM MIC does not verify");
    }
    const sec = sessionSecurity(exportedSessionKey, "server");
    return {
      user: a.user,
      domain: a.domain,
      workstation: a.workstation,
      exportedSessionKey,
      outgoing: sec.outgoing,
      incoming: sec.incoming,
      micPresent,
      ntHash: hash,
    };
  }
}
