// Minimal RDP endpoints around the pure CredSSP machines (proxy/rdp/nla), for tests against real
// peers: a client that does X.224 (PROTOCOL_HYBRID), TLS and CredSSP towards a backend, and a
// server that does the same towards xfreerdp. Only the security handshake; no RDP session.
import net from "node:net";
import tls from "node:tls";
import { CredSspClient } from "../../proxy/rdp/nla/credssp_client.ts";
import { CredSspServer, type CredSspServerResult } from "../../proxy/rdp/nla/credssp_server.ts";
import { encodeEarlyUserAuthResult } from "../../proxy/rdp/nla/early_auth.ts";
import type { NlaError } from "../../proxy/rdp/nla/errors.ts";
import type { NtHashLookup } from "../../proxy/rdp/nla/ntlm_server.ts";
import type { PasswordCredentials } from "../../proxy/rdp/nla/ts_request.ts";
import { pemCertificateDer, subjectPublicKey } from "../../proxy/rdp/nla/x509.ts";
import { HeldSocket } from "../../proxy/rdp/held_socket.ts";
import { SPEC_CONNECT_INITIAL } from "../../proxy/rdp/pdu/fixtures_spec.ts";
import {
  encodeConnectionConfirm,
  parseConnectionConfirm,
  parseConnectionRequest,
  parseMcsConnectResponse,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
} from "../../proxy/rdp/pdu/mod.ts";
import { connectionRequest, rawConnect, readTpkt } from "./rdp_raw_client.ts";

export type NlaClientOutcome =
  /** CredSSP done and the backend answered our MCS Connect Initial (result = MCS result, 0 = success). */
  | { kind: "accepted"; version: number; mcsResult: number }
  /** The CredSSP machine failed (e.g. the backend's errorCode). */
  | { kind: "failed"; error: NlaError }
  /** The backend closed the connection before CredSSP completed. */
  | { kind: "closed"; state: string };

/**
 * X.224 requesting HYBRID, TLS, CredSSP with `credentials`; after success, an MCS Connect Initial
 * (the MS-RDPBCGR 4.1.3 sample, serverSelectedProtocol patched to HYBRID) must be answered.
 */
export async function nlaClientConnect(
  host: string,
  port: number,
  credentials: PasswordCredentials,
  o: { spnego?: boolean; version?: number; ms?: number } = {},
): Promise<NlaClientOutcome> {
  const ms = o.ms ?? 10_000;
  const plain = await rawConnect(host, port);
  plain.write(connectionRequest(PROTOCOL_HYBRID | 0x1, credentials.user));
  const cc = parseConnectionConfirm(await readTpkt(plain, ms));
  if (cc.negotiation?.type !== "response" || cc.negotiation.selectedProtocol !== PROTOCOL_HYBRID) {
    plain.destroy();
    throw new Error(`the backend did not select HYBRID: ${JSON.stringify(cc.negotiation)}`);
  }
  plain.socket.removeAllListeners("data");
  const t: tls.TLSSocket = await new Promise((resolve, reject) => {
    const s = tls.connect(
      { socket: plain.socket as net.Socket, rejectUnauthorized: false },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  const client = new CredSspClient({
    publicKey: subjectPublicKey(new Uint8Array(t.getPeerCertificate().raw)),
    credentials,
    spnego: o.spnego,
    version: o.version,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<NlaClientOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "closed", state: `timeout in ${client.state}` }), ms);
      let mcs: Uint8Array | null = null;
      let version = 0;
      t.on("data", (d: Uint8Array) => {
        if (mcs) {
          mcs = new Uint8Array([...mcs, ...d]);
          const need = mcs.length >= 4 ? (mcs[2] << 8) | mcs[3] : Infinity;
          if (mcs.length >= need) {
            resolve({
              kind: "accepted",
              version,
              mcsResult: parseMcsConnectResponse(mcs.subarray(0, need)).result,
            });
          }
          return;
        }
        const step = client.receive(new Uint8Array(d));
        for (const b of step.send) t.write(b);
        if (step.error) resolve({ kind: "failed", error: step.error });
        if (step.done) {
          version = step.done.version;
          mcs = step.done.rest;
          t.write(connectInitialFor(PROTOCOL_HYBRID));
        }
      });
      t.on("error", () => {});
      t.on("close", () => resolve({ kind: "closed", state: client.state }));
      t.write(client.start());
    });
  } finally {
    clearTimeout(timer);
    t.destroy();
  }
}

/** The spec's Connect Initial with the core block's serverSelectedProtocol set (FreeRDP checks it). */
function connectInitialFor(protocol: number): Uint8Array {
  const ci = SPEC_CONNECT_INITIAL.slice();
  // the core block is followed by the cluster block (04 c0 0c 00); its last field is serverSelectedProtocol
  const at = ci.findIndex((_, i) =>
    ci[i] === 0x04 && ci[i + 1] === 0xc0 && ci[i + 2] === 0x0c && ci[i + 3] === 0
  );
  new DataView(ci.buffer).setUint32(at - 4, protocol, true);
  return ci;
}

export interface NlaServerAttempt {
  requestedProtocols: number;
  selectedProtocol: number;
  result?: CredSspServerResult;
  error?: NlaError;
}

export interface NlaTestServer {
  port: number;
  attempts: NlaServerAttempt[];
  /** Resolves with the next finished attempt (result or error). */
  nextAttempt(ms: number): Promise<NlaServerAttempt>;
  close(): Promise<void>;
}

/**
 * A listener that answers X.224 selecting HYBRID_EX when offered and `hybridEx`, else HYBRID; does
 * TLS with `certPem`/`keyPem` and runs CredSSP. After success it sends the Early User Authorization
 * Result (HYBRID_EX) and closes: the test is about the security handshake only.
 */
export async function startNlaServer(o: {
  certPem: string;
  keyPem: string;
  lookupNtHash: NtHashLookup;
  hybridEx?: boolean;
  /** Sees every decrypted chunk the client sent during CredSSP (fixture capture). */
  onClientBytes?: (b: Uint8Array) => void;
}): Promise<NlaTestServer> {
  const attempts: NlaServerAttempt[] = [];
  const waiters: ((a: NlaServerAttempt) => void)[] = [];
  const finish = (a: NlaServerAttempt) => {
    if (Deno.env.get("NLA_DEBUG")) {
      console.error("attempt", a.error?.code, a.error?.message, a.result?.credentials.user);
    }
    attempts.push(a);
    waiters.shift()?.(a);
  };
  const publicKey = subjectPublicKey(pemCertificateDer(o.certPem));
  const sockets = new Set<net.Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = new Uint8Array(0);
    const onData = (d: Uint8Array) => {
      buf = new Uint8Array([...buf, ...d]);
      if (buf.length < 4 || buf.length < ((buf[2] << 8) | buf[3])) return;
      sock.off("data", onData);
      const cr = parseConnectionRequest(buf.subarray(0, (buf[2] << 8) | buf[3]));
      const requested = cr.negReq?.requestedProtocols ?? 0;
      if (Deno.env.get("NLA_DEBUG")) console.error("requested protocols", requested);
      const selected = o.hybridEx && requested & PROTOCOL_HYBRID_EX ? PROTOCOL_HYBRID_EX : PROTOCOL_HYBRID;
      sock.write(encodeConnectionConfirm({
        dstRef: 0,
        srcRef: 0,
        classOptions: 0,
        negotiation: { type: "response", flags: 0x1f, selectedProtocol: selected },
      }));
      const t = new tls.TLSSocket(new HeldSocket(sock) as unknown as net.Socket, {
        isServer: true,
        cert: o.certPem,
        key: o.keyPem,
      });
      t.on("error", () => {});
      const credssp = new CredSspServer({ publicKey, lookupNtHash: o.lookupNtHash });
      let done = false;
      // One chunk at a time: bytes that arrive while a step is pending wait for it (after the
      // result they belong to MCS, not to CredSSP).
      let chain = Promise.resolve();
      t.on("data", (d: Uint8Array) => {
        const chunk = new Uint8Array(d);
        chain = chain.then(async () => {
          if (done) return;
          o.onClientBytes?.(chunk);
          const step = await credssp.receive(chunk);
          for (const b of step.send) t.write(b);
          if (step.error || step.result) {
            done = true;
            finish({
              requestedProtocols: requested,
              selectedProtocol: selected,
              result: step.result,
              error: step.error,
            });
            if (selected === PROTOCOL_HYBRID_EX) t.write(encodeEarlyUserAuthResult(!!step.result));
            // let the last TSRequest (errorCode) and the result go out before hanging up
            const timer = setTimeout(() => {
              timers.delete(timer);
              t.end();
            }, 200);
            timers.add(timer);
          }
        });
      });
    };
    sock.on("data", onData);
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    attempts,
    nextAttempt(ms) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no CredSSP attempt finished within ${ms} ms`)), ms);
        waiters.push((a) => {
          clearTimeout(t);
          resolve(a);
        });
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
