// NlaSteps over real TLS legs: feeds decrypted bytes to the CredSSP state machines of proxy/rdp/nla/,
// writes what they answer, and hands bytes that followed the exchange back to the stream (the client's
// MCS Connect Initial can arrive right behind its TSCredentials). The jump user's NT hash and the
// throttle come from the database through `deps`.
import type { Duplex } from "node:stream";
import type tls from "node:tls";
import { parseRdpUserName, RdpUserNameError, redactRdpMfaCode } from "../../policy/mod.ts";
import { CredSspClient } from "./nla/credssp_client.ts";
import { CredSspServer } from "./nla/credssp_server.ts";
import type { NlaError } from "./nla/errors.ts";
import { pemCertificateDer, subjectPublicKey } from "./nla/x509.ts";
import { BackendError } from "./backend.ts";
import { concat } from "./pdu/reader.ts";
import { RdpProxyError } from "./errors.ts";
import type { ClientNlaResult, Logon, NlaSteps } from "./nla_steps.ts";

/** Why a jump user has no usable NT hash (db/user_nt_hash.ts). */
export type NtHashAnswer =
  | { ok: true; userName: string; ntHash: Uint8Array }
  | { ok: false; reason: string; detail: string };

export interface NlaAttempt {
  userName: string | null;
  sourceIp: string;
}

export interface NlaLegDeps {
  /** The separator between the user name and a verification code (its code is checked after NLA). */
  mfaSeparator(): string;
  ntHash(jumpUser: string): Promise<NtHashAnswer>;
  /** A block in force on this user or source, or null. */
  blocked(a: NlaAttempt): Promise<{ scope: string; until: Date } | null>;
  failed(a: NlaAttempt): Promise<void>;
  succeeded(jumpUser: string): Promise<void>;
}

export function createNlaSteps(deps: NlaLegDeps): NlaSteps {
  const keys = new Map<string, Uint8Array>();
  const ourKey = (pem: string) => {
    let k = keys.get(pem);
    if (!k) {
      k = subjectPublicKey(pemCertificateDer(pem));
      keys.clear(); // one certificate at a time (a reload replaces it)
      keys.set(pem, k);
    }
    return k;
  };
  return {
    async canAuthenticate(jumpUser) {
      return (await deps.ntHash(jumpUser)).ok;
    },

    async acceptClient(stream, o): Promise<ClientNlaResult> {
      let jumpUser: string | null = null;
      let refusal: { action: "rdp.nla_failed" | "rdp.nla_throttled"; reason: string; detail: string } | null =
        null;
      const server = new CredSspServer({
        publicKey: ourKey(o.certificatePem),
        lookupNtHash: async (user, domain) => {
          try {
            jumpUser = parseRdpUserName(domain, user, deps.mfaSeparator()).jumpUser;
          } catch (e) {
            if (!(e instanceof RdpUserNameError)) throw e;
            // a misplaced code (alice#123456+svc) is not kept in the audit row either
            const sep = deps.mfaSeparator();
            const detail = e.message.includes(sep)
              ? `${redactRdpMfaCode(e.message, sep)} is not a valid RDP user name`
              : e.message;
            refusal = { action: "rdp.nla_failed", reason: "nla_bad_user_name", detail };
            return null;
          }
          const block = await deps.blocked({ userName: jumpUser, sourceIp: o.sourceIp });
          if (block) {
            refusal = {
              action: "rdp.nla_throttled",
              reason: "nla_throttled",
              detail:
                `too many failed NLA logons for this ${block.scope}; blocked until ${block.until.toISOString()}`,
            };
            return null;
          }
          const h = await deps.ntHash(jumpUser);
          if (h.ok) return h.ntHash;
          refusal = { action: "rdp.nla_failed", reason: `nla_${h.reason}`, detail: h.detail };
          return null;
        },
      });
      const end = await driveExchange(
        stream,
        (chunk) => server.receive(chunk),
        o.timeoutMs,
        "client CredSSP",
      );
      if ("result" in end) {
        const c = end.result.credentials;
        if (jumpUser) await deps.succeeded(jumpUser);
        return { ok: true, logon: { domain: c.domain, user: c.user, password: c.password } };
      }
      const r = refusal as
        | { action: "rdp.nla_failed" | "rdp.nla_throttled"; reason: string; detail: string }
        | null;
      const error = end.error;
      if (error.code === "logon_failure" && r?.action !== "rdp.nla_throttled") {
        await deps.failed({ userName: jumpUser, sourceIp: o.sourceIp });
      }
      if (r) return { ok: false, ...r, userName: jumpUser ?? undefined };
      return {
        ok: false,
        action: "rdp.nla_failed",
        reason: error.code === "logon_failure" ? "nla_wrong_password" : `nla_${error.code}`,
        detail: error.message,
        userName: jumpUser ?? undefined,
      };
    },

    async authenticateBackend(stream: tls.TLSSocket, logon: Logon, o): Promise<void> {
      const raw = stream.getPeerCertificate(true)?.raw;
      if (!raw) throw new BackendError("the backend presented no certificate to bind NLA to", "nla_failed");
      const client = new CredSspClient({
        publicKey: subjectPublicKey(new Uint8Array(raw)),
        credentials: { domain: logon.domain, user: logon.user, password: logon.password },
      });
      await writeBytes(stream, client.start());
      const end = await driveExchange(
        stream,
        (chunk) => {
          const step = client.receive(chunk);
          return step.done ? { send: step.send, result: step.done } : step;
        },
        o.timeoutMs,
        "backend CredSSP",
      );
      if ("error" in end) {
        const status = end.error.status === null ? "" : ` (status 0x${end.error.status.toString(16)})`;
        throw new BackendError(`backend NLA failed: ${end.error.message}${status}`, "nla_failed");
      }
    },
  };
}

interface Step<R> {
  send: Uint8Array[];
  result?: R & { rest: Uint8Array };
  error?: NlaError;
}

/**
 * Feed chunks until the exchange completes or fails; answers are written in order (the error TSRequest
 * included). On completion the stream is paused and the bytes after the exchange are put back.
 */
export function driveExchange<R>(
  stream: Duplex,
  feed: (chunk: Uint8Array) => Promise<Step<R>> | Step<R>,
  timeoutMs: number,
  what: string,
): Promise<{ result: R & { rest: Uint8Array } } | { error: NlaError }> {
  return new Promise((resolve, reject) => {
    let queue = Promise.resolve();
    let settled = false;
    /** Chunks that were already on their way when the exchange completed: they follow `rest`. */
    const late: Uint8Array[] = [];
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onClose);
      stream.off("close", onClose);
      stream.off("error", onError);
      stream.pause();
      f();
    };
    const onData = (data: Uint8Array) => {
      // a copy: node Buffers' slice() is a view, and the NTLM MIC covers messages kept across reads
      const chunk = new Uint8Array(data);
      queue = queue.then(async () => {
        if (settled) return void late.push(chunk);
        const step = await feed(chunk);
        for (const b of step.send) await writeBytes(stream, b);
        if (step.error) return finish(() => resolve({ error: step.error! }));
        if (step.result) {
          const result = step.result;
          finish(() => {
            // after the chunks queued behind this one were set aside
            queue.then(() => {
              const back = [result.rest, ...late].filter((b) => b.length > 0);
              if (back.length > 0) stream.unshift(concat(...back));
              resolve({ result });
            });
          });
        }
      }).catch((e) => finish(() => reject(e)));
    };
    const onClose = () => finish(() => reject(new RdpProxyError("closed", `${what}: connection closed`)));
    const onError = (e: Error) => finish(() => reject(new RdpProxyError("closed", `${what}: ${e.message}`)));
    const timer = setTimeout(
      () =>
        finish(() => reject(new RdpProxyError("timeout", `${what}: not finished within ${timeoutMs} ms`))),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("end", onClose);
    stream.once("close", onClose);
    stream.once("error", onError);
    stream.resume();
  });
}

function writeBytes(stream: Duplex, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(
      bytes,
      (e?: Error | null) => (e ? reject(new RdpProxyError("closed", e.message)) : resolve()),
    );
  });
}
