/**
 * CredSSP client (MS-CSSP) towards an RDP backend: NTLMv2 (raw NTLMSSP tokens by default, SPNEGO on
 * request), bound to the backend's TLS public key, then TSCredentials with the password. Pure: the
 * connection code writes start() and feeds what the backend sends to receive().
 *
 *   const c = new CredSspClient({ publicKey: subjectPublicKey(tls.getPeerCertificate().raw), credentials });
 *   tls.write(c.start());
 *   for each chunk read: const step = c.receive(chunk); write step.send;
 *     step.error -> the backend refused (step.error.status holds its NTSTATUS, e.g. STATUS_LOGON_FAILURE)
 *     step.done  -> credentials delivered; go on with MCS (or read the Early User Authorization Result
 *                   first with PROTOCOL_HYBRID_EX); step.rest holds bytes that followed.
 */
import { clientBinding, CREDSSP_MAX_VERSION, serverBinding, usesNonceHash } from "./binding.ts";
import { equalBytes, randomBytesU8 } from "./crypto.ts";
import { asNlaError, NlaError, STATUS_ACCOUNT_RESTRICTION, STATUS_LOGON_FAILURE } from "./errors.ts";
import { TsRequestFramer } from "./frame.ts";
import { NtlmClient, type NtlmClientSession } from "./ntlm_client.ts";
import {
  encodeNegTokenInit,
  encodeNegTokenResp,
  isRawNtlm,
  mechTypeList,
  NEG_STATE_REJECT,
  OID_NTLMSSP,
  parseNegTokenResp,
} from "./spnego.ts";
import {
  CRED_TYPE_PASSWORD,
  encodePasswordCreds,
  encodeTsCredentials,
  encodeTsRequest,
  parseTsRequest,
  type PasswordCredentials,
  type TsRequest,
  tsRequest,
} from "./ts_request.ts";

export interface CredSspClientOptions {
  /** SubjectPublicKey of the backend's certificate on this TLS connection (see x509.ts). */
  publicKey: Uint8Array;
  /** Delegated to the backend in TSCredentials; also the NTLM identity. */
  credentials: PasswordCredentials;
  /** Wrap NTLM in SPNEGO (Windows "Negotiate") instead of sending raw NTLMSSP tokens. */
  spnego?: boolean;
  /** TSRequest version to announce (2-6; default 6). */
  version?: number;
  workstation?: string;
  random?: (n: number) => Uint8Array;
  now?: () => number;
}

export interface CredSspClientStep {
  send: Uint8Array[];
  /** Set once the credentials went out: the backend accepted the binding. */
  done?: { version: number; rest: Uint8Array };
  error?: NlaError;
}

export type CredSspClientState = "initial" | "challenge" | "pubkey" | "complete" | "failed";

export class CredSspClient {
  #state: CredSspClientState = "initial";
  #framer = new TsRequestFramer();
  #ntlm: NtlmClient;
  #session: NtlmClientSession | null = null;
  #version: number;
  #peerVersion = 0;
  #nonce: Uint8Array | null = null;
  #random: (n: number) => Uint8Array;

  constructor(private readonly opts: CredSspClientOptions) {
    this.#version = Math.min(Math.max(opts.version ?? CREDSSP_MAX_VERSION, 2), CREDSSP_MAX_VERSION);
    this.#random = opts.random ?? randomBytesU8;
    this.#ntlm = new NtlmClient({
      user: opts.credentials.user,
      domain: opts.credentials.domain,
      password: opts.credentials.password,
      workstation: opts.workstation,
      random: this.#random,
      now: opts.now,
    });
  }

  get state(): CredSspClientState {
    return this.#state;
  }

  /** The first TSRequest (NTLM NEGOTIATE). */
  start(): Uint8Array {
    if (this.#state !== "initial") throw new NlaError("protocol", "CredSSP client started twice");
    this.#state = "challenge";
    const negotiate = this.#ntlm.negotiate();
    const token = this.opts.spnego ? encodeNegTokenInit([OID_NTLMSSP], negotiate) : negotiate;
    return encodeTsRequest(tsRequest({ version: this.#version, negoTokens: [token] }));
  }

  /** Feed bytes read from the backend. Never throws. */
  receive(chunk: Uint8Array): CredSspClientStep {
    const send: Uint8Array[] = [];
    if (this.#state !== "challenge" && this.#state !== "pubkey") {
      return { send, error: new NlaError("protocol", `CredSSP data in state ${this.#state}`) };
    }
    try {
      this.#framer.push(chunk);
      for (;;) {
        const msg = this.#framer.next();
        if (!msg) return { send };
        const req = parseTsRequest(msg);
        if (req.errorCode !== null) {
          const logon = req.errorCode === STATUS_LOGON_FAILURE ||
            req.errorCode === STATUS_ACCOUNT_RESTRICTION;
          throw new NlaError(
            logon ? "logon_failure" : "peer_error",
            `the server reported 0x${req.errorCode.toString(16)}`,
            { status: req.errorCode },
          );
        }
        if (this.#state === "challenge") {
          send.push(this.#authenticate(req));
        } else {
          send.push(this.#credentials(req));
          this.#state = "complete";
          return { send, done: { version: this.#negotiated(), rest: this.#framer.takeRest() } };
        }
      }
    } catch (e) {
      this.#state = "failed";
      return { send, error: asNlaError(e) };
    }
  }

  #negotiated(): number {
    return Math.min(this.#version, this.#peerVersion);
  }

  #authenticate(req: TsRequest): Uint8Array {
    this.#peerVersion = req.version;
    const token = req.negoTokens[0];
    if (!token) throw new NlaError("protocol", "the server sent no NTLM CHALLENGE");
    let challenge = token;
    if (this.opts.spnego && !isRawNtlm(token)) {
      const resp = parseNegTokenResp(token);
      if (resp.negState === NEG_STATE_REJECT || !resp.responseToken) {
        throw new NlaError("unsupported", "the server rejected NTLM in SPNEGO");
      }
      challenge = resp.responseToken;
    }
    const { message, session } = this.#ntlm.authenticate(challenge);
    this.#session = session;
    let out: Uint8Array = message;
    if (this.opts.spnego && !isRawNtlm(token)) {
      const mic = session.outgoing.sign(mechTypeList([OID_NTLMSSP]));
      session.outgoing.resetRc4();
      out = encodeNegTokenResp({
        negState: null,
        supportedMech: null,
        responseToken: message,
        mechListMIC: mic,
      });
    }
    const v = this.#negotiated();
    if (usesNonceHash(v)) this.#nonce = this.#random(32);
    this.#state = "pubkey";
    return encodeTsRequest(tsRequest({
      version: this.#version,
      negoTokens: [out],
      pubKeyAuth: session.outgoing.seal(clientBinding(this.opts.publicKey, v, this.#nonce)),
      clientNonce: this.#nonce,
    }));
  }

  #credentials(req: TsRequest): Uint8Array {
    const session = this.#session!;
    if (this.opts.spnego && req.negoTokens[0]) {
      const resp = parseNegTokenResp(req.negoTokens[0]);
      if (resp.negState === NEG_STATE_REJECT) throw new NlaError("logon_failure", "SPNEGO reject");
      if (resp.mechListMIC) {
        if (!session.incoming.verify(mechTypeList([OID_NTLMSSP]), resp.mechListMIC)) {
          throw new NlaError("integrity", "the server's mechListMIC does not verify");
        }
        session.incoming.resetRc4();
      }
    }
    if (!req.pubKeyAuth) throw new NlaError("protocol", "the server sent no pubKeyAuth");
    const opened = session.incoming.unseal(req.pubKeyAuth);
    if (!opened) throw new NlaError("integrity", "the server's pubKeyAuth signature does not verify");
    const v = this.#negotiated();
    if (!equalBytes(opened, serverBinding(this.opts.publicKey, v, this.#nonce))) {
      throw new NlaError("binding", "the server's pubKeyAuth does not match its TLS public key");
    }
    const creds = encodeTsCredentials({
      credType: CRED_TYPE_PASSWORD,
      credentials: encodePasswordCreds(this.opts.credentials),
    });
    return encodeTsRequest(tsRequest({ version: this.#version, authInfo: session.outgoing.seal(creds) }));
  }
}
