// The backend leg: TCP (TCP_NODELAY) + SSH to the target server, host key checked against the pinned key,
// authenticated with what we have, in order: the appliance's key for this server, the client's forwarded
// agent, the password the client typed where the server allows passthrough (password, then a
// keyboard-interactive prompt that asks for a password).
import { TCP_KEEPALIVE_MS } from "./keepalive.ts";
import net from "node:net";
import { Buffer } from "node:buffer";
import { type BackendAuth, type BackendClient, newBackendClient, parseKey } from "./ssh2_types.ts";
import { type ClientAgent, releaseCrypto } from "./ssh2_internals.ts";
import { batchWrites } from "./write_batching.ts";
import { isPasswordPrompt } from "./password_prompt.ts";
import { algorithmsReady, backendAlgorithms } from "./algorithms.ts";
import type { SshAlgorithms } from "../../core/ssh_algorithms.ts";

export type BackendErrorCode =
  | "unreachable"
  | "timeout"
  | "auth_failed"
  | "host_key_mismatch"
  | "no_credentials"
  | "protocol";

export class BackendError extends Error {
  override name = "BackendError";
  constructor(readonly code: BackendErrorCode, message: string, readonly presentedKey?: string) {
    super(message);
  }
}

export interface BackendCredentials {
  applianceKey: Uint8Array | null;
  agent: ClientAgent | null;
  password: string | null;
}

export interface HostKeyPolicy {
  /** pinned "type base64" or null (trust on first use) */
  pinned: string | null;
  /** called for an unpinned server: pins and returns the key now pinned (a concurrent pin may win) */
  pin(presented: string): Promise<string>;
}

export interface BackendTarget {
  host: string;
  port: number;
  login: string;
}

export interface Backend {
  client: BackendClient;
  /** publickey (appliance key), agent, password or keyboard-interactive */
  authMethod: string;
  hostKey: string;
  /** true when the key was pinned by this connection (first use) */
  pinnedNow: boolean;
}

export function hasCredentials(c: BackendCredentials): boolean {
  return c.applianceKey !== null || c.agent !== null || c.password !== null;
}

/** "ssh-ed25519 AAAA…" from the wire blob (RFC 4253 6.6: string type, then key data). */
export function hostKeyLine(blob: Uint8Array): string {
  const b = Buffer.from(blob);
  const n = b.length >= 4 ? b.readUInt32BE(0) : 0;
  const type = n > 0 && n < 64 && 4 + n <= b.length ? b.subarray(4, 4 + n).toString("latin1") : "unknown";
  return `${type} ${b.toString("base64")}`;
}

/** Host key algorithms that produce this key type, so a pinned RSA key is not compared to an ed25519 one. */
export function algorithmsFor(pinned: string): string[] | undefined {
  const type = pinned.split(" ")[0];
  if (type === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  if (/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521))$/.test(type)) return [type];
  return undefined;
}

function sameKey(a: string, b: string): boolean {
  const norm = (k: string) => k.trim().split(/\s+/).slice(0, 2).join(" ");
  return norm(a) === norm(b);
}

export function connectBackend(
  target: BackendTarget,
  creds: BackendCredentials,
  hostKeys: HostKeyPolicy,
  opts: {
    timeoutMs: number;
    keepaliveMs: number;
    forwardAgent?: ClientAgent;
    signal?: AbortSignal;
    algorithms?: SshAlgorithms;
  },
): Promise<Backend> {
  if (!hasCredentials(creds)) {
    return Promise.reject(
      new BackendError("no_credentials", "no credentials for the backend (no agent, password or key)"),
    );
  }
  // chacha20-poly1305's Poly1305 loads asynchronously (already done inside a running proxy)
  return algorithmsReady.then(() =>
    new Promise((resolve, reject) => {
      const client = newBackendClient();
      // every way this connection ends (auth failure, a check abandoned, the session's end) frees its
      // stream cipher contexts at once; the session also does this, a second call is a no-op
      client.on("close", () => releaseCrypto(client));
      const sock = net.connect({ host: target.host, port: target.port });
      sock.setNoDelay(true);
      sock.setKeepAlive(true, TCP_KEEPALIVE_MS);
      batchWrites(sock);
      let settled = false;
      let presented = "";
      let mismatch: string | null = null;
      let pinnedNow = false;
      let lastMethod = "none";
      const tried: string[] = [];
      const fail = (e: BackendError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        client.destroy();
        sock.destroy();
        releaseCrypto(client);
        reject(e);
      };
      const timer = setTimeout(
        () =>
          fail(
            new BackendError(
              "timeout",
              `no SSH session with ${target.host}:${target.port} after ${opts.timeoutMs} ms`,
            ),
          ),
        opts.timeoutMs,
      );
      // the client went away while we were connecting: give up at once
      const onAbort = () => fail(new BackendError("protocol", "connection attempt abandoned"));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const methods = authSequence(target.login, creds);
      client.on("ready", () => {
        if (settled) return client.end();
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        resolve({ client, authMethod: lastMethod, hostKey: presented, pinnedNow });
      });
      client.on("error", (e) => {
        if (mismatch !== null) {
          return fail(
            new BackendError("host_key_mismatch", `host key mismatch: pinned ${mismatch}`, presented),
          );
        }
        if (e.level === "client-authentication") {
          return fail(
            new BackendError(
              "auth_failed",
              `backend refused ${target.login} (tried ${tried.join(", ") || "nothing"})`,
            ),
          );
        }
        const code =
          e.level === "client-socket" || /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND/.test(e.message)
            ? "unreachable"
            : "protocol";
        fail(new BackendError(code, e.message));
      });
      sock.on("error", (e) => fail(new BackendError("unreachable", e.message)));
      sock.on("connect", () => {
        client.connect({
          sock,
          username: target.login,
          readyTimeout: opts.timeoutMs,
          keepaliveInterval: opts.keepaliveMs,
          keepaliveCountMax: 3,
          // used for the user's logins (authSequence) and for agent forwarding on channels that ask for it
          agent: creds.agent ?? opts.forwardAgent,
          algorithms: {
            ...backendAlgorithms(opts.algorithms),
            ...(hostKeys.pinned ? { serverHostKey: algorithmsFor(hostKeys.pinned) } : {}),
          },
          hostVerifier: (key: Uint8Array, verify: (ok: boolean) => void) => {
            presented = hostKeyLine(key);
            if (hostKeys.pinned !== null) {
              if (sameKey(hostKeys.pinned, presented)) return verify(true);
              mismatch = hostKeys.pinned;
              return verify(false);
            }
            hostKeys.pin(presented).then(
              (now) => {
                if (sameKey(now, presented)) {
                  pinnedNow = true;
                  verify(true);
                } else {
                  mismatch = now;
                  verify(false);
                }
              },
              (e) =>
                fail(new BackendError("protocol", `pinning the host key failed: ${(e as Error).message}`)),
            );
          },
          authHandler: (
            _left: string[] | null,
            _partial: boolean,
            next: (m: BackendAuth | false) => void,
          ) => {
            const m = methods.shift();
            if (!m) return next(false);
            lastMethod = m.type === "publickey" ? "appliance_key" : m.type;
            tried.push(lastMethod);
            next(m);
          },
        });
      });
    })
  );
}

function authSequence(login: string, c: BackendCredentials): BackendAuth[] {
  const out: BackendAuth[] = [];
  if (c.applianceKey) {
    const key = Buffer.from(c.applianceKey);
    const k = parseKey(key);
    if (!(k instanceof Error) && k.isPrivateKey()) out.push({ type: "publickey", username: login, key });
  }
  if (c.agent) out.push({ type: "agent", username: login, agent: c.agent });
  if (c.password !== null) {
    const password = c.password;
    out.push({ type: "password", username: login, password });
    let answered = false;
    out.push({
      type: "keyboard-interactive",
      username: login,
      prompt: (_n, _i, _l, prompts, finish) => {
        // answer one prompt that asks for the password, once
        if (!answered && prompts.length === 1 && isPasswordPrompt(prompts[0])) {
          answered = true;
          return finish([password]);
        }
        // anything else (a verification code, a second round) is declined with one empty answer per
        // prompt (sshd drops a response with the wrong count without a failure): the method fails there
        finish(prompts.map(() => ""));
      },
    });
  }
  return out;
}
