/**
 * CredSSP server (MS-CSSP) towards an RDP client: NTLMv2 inside raw NTLMSSP or SPNEGO tokens,
 * TSRequest versions 2-6, the public-key binding to OUR certificate, then TSCredentials. Pure: the
 * connection code feeds decrypted TLS bytes to receive() and writes out what it returns.
 *
 *   const s = new CredSspServer({ publicKey, lookupNtHash });
 *   for each chunk read from the TLS socket:
 *     const step = await s.receive(chunk);
 *     for (const b of step.send) tls.write(b);
 *     if (step.error) -> close (after writing step.send: it carries the errorCode TSRequest)
 *     if (step.result) -> authenticated; step.result.rest holds bytes that followed authInfo
 */
import {
  asNlaError,
  NlaError,
  SEC_E_INVALID_TOKEN,
  SEC_E_MESSAGE_ALTERED,
  STATUS_LOGON_FAILURE,
} from "./errors.ts";
import { clientBinding, CREDSSP_MAX_VERSION, serverBinding, usesNonceHash } from "./binding.ts";
import { equalBytes, ntHash } from "./crypto.ts";
import { TsRequestFramer } from "./frame.ts";
import {
  type NtHashLookup,
  type NtlmAuthenticated,
  NtlmServer,
  type NtlmServerOptions,
} from "./ntlm_server.ts";
import {
  encodeNegTokenResp,
  isRawNtlm,
  NEG_STATE_ACCEPT_COMPLETED,
  NEG_STATE_ACCEPT_INCOMPLETE,
  OID_NTLMSSP,
  parseNegTokenInit,
  parseNegTokenResp,
  sameBytes,
} from "./spnego.ts";
import {
  CRED_TYPE_PASSWORD,
  encodeTsRequest,
  parsePasswordCreds,
  parseTsCredentials,
  parseTsRequest,
  type PasswordCredentials,
  type TsRequest,
  tsRequest,
} from "./ts_request.ts";

export { CREDSSP_MAX_VERSION } from "./binding.ts";

export interface CredSspServerOptions {
  /** SubjectPublicKey of the certificate presented on this TLS connection (see x509.ts). */
  publicKey: Uint8Array;
  /** NT hash of a user as named in the NTLM AUTHENTICATE; null for an unknown user. */
  lookupNtHash: NtHashLookup;
  ntlm?: NtlmServerOptions;
  /** Highest TSRequest version to speak (2-6, default 6): lower only to act as an older server. */
  maxVersion?: number;
}

export interface CredSspServerResult {
  /** What the client delegated in TSCredentials (its password in clear). */
  credentials: PasswordCredentials;
  /** The NTLM-proven names; equal (case-insensitively) to the credentials' names, and the
   *  credentials' password is the one the NTLM proof was made with. */
  ntlm: { user: string; domain: string; workstation: string };
  /** The negotiated TSRequest version. */
  version: number;
  /** "spnego" or "ntlm" (raw NTLMSSP tokens). */
  wrapping: "spnego" | "ntlm";
  /** Bytes received after the final TSRequest (the client's first MCS PDU, with PROTOCOL_HYBRID). */
  rest: Uint8Array;
}

export interface CredSspServerStep {
  /** TSRequests to write to the client, in order. */
  send: Uint8Array[];
  /** Set once, when the client is authenticated and its credentials are in hand. */
  result?: CredSspServerResult;
  /** Set once, on failure; `send` then holds the errorCode TSRequest (v3+, before the credentials
   *  stage), if any. Close after (with HYBRID_EX, send encodeEarlyUserAuthResult(false) first). */
  error?: NlaError;
}

export type CredSspServerState = "negotiate" | "authenticate" | "credentials" | "complete" | "failed";

export class CredSspServer {
  #state: CredSspServerState = "negotiate";
  #framer = new TsRequestFramer();
  #ntlm: NtlmServer;
  #version = 0;
  #nonce: Uint8Array | null = null;
  #spnego = false;
  #mechTypesRaw: Uint8Array | null = null;
  #mechNotFirst = false;
  #auth: NtlmAuthenticated | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: CredSspServerOptions) {
    this.#ntlm = new NtlmServer(opts.ntlm);
  }

  get state(): CredSspServerState {
    return this.#state;
  }

  /** Feed bytes read from the client. Calls are serialized; never rejects. */
  receive(chunk: Uint8Array): Promise<CredSspServerStep> {
    const run = this.#queue.then(() => this.#receive(chunk));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #receive(chunk: Uint8Array): Promise<CredSspServerStep> {
    const send: Uint8Array[] = [];
    if (this.#state === "complete" || this.#state === "failed") {
      return { send, error: new NlaError("protocol", `CredSSP data after the exchange ${this.#state}`) };
    }
    try {
      this.#framer.push(chunk);
      for (;;) {
        const msg = this.#framer.next();
        if (!msg) return { send };
        const req = parseTsRequest(msg);
        if (req.errorCode !== null) {
          throw new NlaError("peer_error", `client reported 0x${req.errorCode.toString(16)}`, {
            status: req.errorCode,
          });
        }
        if (req.clientNonce) this.#nonce = req.clientNonce.slice();
        if (this.#state === "negotiate") send.push(this.#negotiate(req));
        else if (this.#state === "authenticate") send.push(await this.#authenticate(req));
        else {
          const result = this.#credentials(req);
          this.#state = "complete";
          return { send, result: { ...result, rest: this.#framer.takeRest() } };
        }
      }
    } catch (e) {
      const error = asNlaError(e);
      // After pubKeyAuth the client no longer reads TSRequests (it sends MCS, or waits for the Early
      // User Authorization Result): an errorCode then would only be misread.
      const answer = this.#state !== "credentials";
      this.#state = "failed";
      if (answer && this.#version >= 3 && error.code !== "peer_error") {
        const status = error.code === "logon_failure" || error.code === "lookup"
          ? STATUS_LOGON_FAILURE
          : error.code === "binding" || error.code === "integrity"
          ? SEC_E_MESSAGE_ALTERED
          : SEC_E_INVALID_TOKEN;
        send.push(encodeTsRequest(tsRequest({ version: this.#version, errorCode: status })));
      }
      return { send, error };
    }
  }

  #reply(fields: Partial<TsRequest>): Uint8Array {
    return encodeTsRequest(tsRequest({ version: this.#version, ...fields }));
  }

  #negotiate(req: TsRequest): Uint8Array {
    const max = Math.min(Math.max(this.opts.maxVersion ?? CREDSSP_MAX_VERSION, 2), CREDSSP_MAX_VERSION);
    if (this.#version === 0) this.#version = Math.min(req.version, max);
    const token = req.negoTokens[0];
    if (!token) throw new NlaError("protocol", "first TSRequest has no negoToken");
    let ntlmNegotiate: Uint8Array;
    if (isRawNtlm(token) && !this.#spnego) {
      ntlmNegotiate = token;
    } else if (this.#mechTypesRaw === null) {
      const init = parseNegTokenInit(token);
      this.#spnego = true;
      this.#mechTypesRaw = init.mechTypesRaw.slice();
      if (!init.mechTypes.some((m) => sameBytes(m, OID_NTLMSSP))) {
        throw new NlaError("unsupported", "the client offers no NTLM in SPNEGO");
      }
      if (!sameBytes(init.mechTypes[0], OID_NTLMSSP) || !init.mechToken) {
        // Its optimistic token is for another mechanism (Kerberos): ask for NTLM instead.
        this.#mechNotFirst = true;
        return this.#reply({
          negoTokens: [encodeNegTokenResp({
            negState: NEG_STATE_ACCEPT_INCOMPLETE,
            supportedMech: OID_NTLMSSP,
            responseToken: null,
            mechListMIC: null,
          })],
        });
      }
      ntlmNegotiate = init.mechToken;
    } else {
      const resp = parseNegTokenResp(token);
      if (!resp.responseToken) throw new NlaError("protocol", "SPNEGO response without an NTLM NEGOTIATE");
      ntlmNegotiate = resp.responseToken;
    }
    const challenge = this.#ntlm.challenge(ntlmNegotiate);
    this.#state = "authenticate";
    return this.#reply({
      negoTokens: [
        this.#spnego
          ? encodeNegTokenResp({
            negState: NEG_STATE_ACCEPT_INCOMPLETE,
            supportedMech: this.#mechNotFirst ? null : OID_NTLMSSP,
            responseToken: challenge,
            mechListMIC: null,
          })
          : challenge,
      ],
    });
  }

  async #authenticate(req: TsRequest): Promise<Uint8Array> {
    const token = req.negoTokens[0];
    if (!token) throw new NlaError("protocol", "no NTLM AUTHENTICATE in the TSRequest");
    let message = token;
    let clientMic: Uint8Array | null = null;
    if (this.#spnego) {
      const resp = parseNegTokenResp(token);
      if (!resp.responseToken) throw new NlaError("protocol", "SPNEGO response without an NTLM AUTHENTICATE");
      message = resp.responseToken;
      clientMic = resp.mechListMIC;
    } else if (!isRawNtlm(token)) {
      throw new NlaError("protocol", "expected a raw NTLM AUTHENTICATE");
    }
    const auth = await this.#ntlm.authenticate(message, this.opts.lookupNtHash);
    this.#auth = auth;
    let serverMic: Uint8Array | null = null;
    if (this.#spnego && this.#mechTypesRaw) {
      if (clientMic) {
        if (!auth.incoming.verify(this.#mechTypesRaw, clientMic)) {
          throw new NlaError("integrity", "SPNEGO mechListMIC does not verify");
        }
        auth.incoming.resetRc4();
      } else if (this.#mechNotFirst && auth.micPresent) {
        throw new NlaError("integrity", "SPNEGO mechListMIC missing");
      }
      if (clientMic || this.#mechNotFirst) {
        serverMic = auth.outgoing.sign(this.#mechTypesRaw);
        auth.outgoing.resetRc4();
      }
    }
    if (!req.pubKeyAuth) throw new NlaError("protocol", "no pubKeyAuth with the NTLM AUTHENTICATE");
    const hashed = usesNonceHash(this.#version);
    if (hashed && !this.#nonce) {
      throw new NlaError("protocol", `TSRequest v${this.#version} without clientNonce`);
    }
    const opened = auth.incoming.unseal(req.pubKeyAuth);
    if (!opened) throw new NlaError("integrity", "pubKeyAuth signature does not verify");
    if (!equalBytes(opened, clientBinding(this.opts.publicKey, this.#version, this.#nonce))) {
      throw new NlaError("binding", "pubKeyAuth does not match our TLS public key");
    }
    this.#state = "credentials";
    return this.#reply({
      negoTokens: this.#spnego
        ? [encodeNegTokenResp({
          negState: NEG_STATE_ACCEPT_COMPLETED,
          supportedMech: null,
          responseToken: null,
          mechListMIC: serverMic,
        })]
        : [],
      pubKeyAuth: auth.outgoing.seal(serverBinding(this.opts.publicKey, this.#version, this.#nonce)),
    });
  }

  #credentials(req: TsRequest): Omit<CredSspServerResult, "rest"> {
    const auth = this.#auth!;
    if (!req.authInfo) throw new NlaError("protocol", "TSRequest without authInfo");
    const plain = auth.incoming.unseal(req.authInfo);
    if (!plain) throw new NlaError("integrity", "authInfo signature does not verify");
    const creds = parseTsCredentials(plain);
    if (creds.credType !== CRED_TYPE_PASSWORD) {
      throw new NlaError("unsupported", `TSCredentials credType ${creds.credType} (only passwords)`);
    }
    const credentials = parsePasswordCreds(creds.credentials);
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (!same(credentials.user, auth.user) || !same(credentials.domain, auth.domain)) {
      throw new NlaError("user_mismatch", "TSCredentials name differs from the NTLM-authenticated name");
    }
    if (!equalBytes(ntHash(credentials.password), auth.ntHash)) {
      throw new NlaError("password_mismatch", "TSCredentials password differs from the NTLM-proven one");
    }
    return {
      credentials,
      ntlm: { user: auth.user, domain: auth.domain, workstation: auth.workstation },
      version: this.#version,
      wrapping: this.#spnego ? "spnego" : "ntlm",
    };
  }
}
