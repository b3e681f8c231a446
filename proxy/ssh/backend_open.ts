// Opens the backend leg for an identified user: reads the pinned host key, connects, pins on first use,
// and audits failures (unreachable, refused login, host key mismatch).
import { BACKEND_KEEPALIVE_MS } from "./keepalive.ts";
import { findServer, pinHostKey } from "../../db/servers.ts";
import type { JumpIdentity } from "./auth.ts";
import { backendFailed, type ConnFacts, hostKeyMismatch } from "./events.ts";
import type { Runtime } from "./runtime.ts";
import type { ClientAgent } from "./ssh2_internals.ts";
import { SessionDbError } from "./errors.ts";
import { type Backend, type BackendCredentials, BackendError, connectBackend } from "./upstream.ts";

export async function openBackend(
  rt: Runtime,
  facts: ConnFacts,
  id: Pick<JumpIdentity, "server" | "login">,
  creds: BackendCredentials,
  forwardAgent: ClientAgent,
  signal?: AbortSignal,
): Promise<Backend> {
  const server = id.server;
  let pinned: string | null;
  try {
    pinned = (await findServer(rt.deps.sql, server.name))?.host_key ?? null;
  } catch (e) {
    rt.deps.log.error("cannot read the server's host key", { ref: facts.ref, error: (e as Error).message });
    throw new SessionDbError(`database unavailable: ${(e as Error).message}`);
  }
  try {
    return await connectBackend(
      { host: server.address, port: server.sshPort, login: id.login },
      creds,
      {
        pinned,
        pin: (key) => pinHostKey(rt.deps.sql, server.id, key, `ssh-proxy:${rt.deps.nodeId}`),
      },
      {
        timeoutMs: rt.deps.backendTimeoutMs ?? 15_000,
        keepaliveMs: rt.deps.keepaliveMs ?? BACKEND_KEEPALIVE_MS,
        forwardAgent,
        signal,
        algorithms: rt.deps.algorithms,
      },
    );
  } catch (e) {
    const err = e instanceof BackendError ? e : new BackendError("protocol", (e as Error).message);
    if (signal?.aborted) throw err; // the client left: nothing to audit
    if (err.code === "host_key_mismatch") {
      await rt.audit(hostKeyMismatch(facts, server.name, pinned ?? "", err.presentedKey ?? ""));
    } else {
      await rt.audit(backendFailed(facts, server.name, err.code, err.message));
    }
    rt.deps.log.info("backend connection failed", {
      ref: facts.ref,
      server: server.name,
      code: err.code,
      error: err.message,
    });
    throw err;
  }
}
