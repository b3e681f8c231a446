// The SSH proxy core: listeners (TCP_NODELAY), the ssh2 server, per-connection authentication and
// sessions, policy reloads, kills via NOTIFY, shutdown. Runs in the SSH worker, or in-process in tests.
import { capConnections } from "../../core/fd_budget.ts";
import { CLIENT_KEEPALIVE_MS, TCP_KEEPALIVE_MS } from "./keepalive.ts";
import net from "node:net";
import { listenSessionKill, type Unlisten } from "../../db/notify.ts";
import { closeOrphanedSessions } from "../../db/sessions.ts";
import { LineAllocator } from "../../recorder/utmp.ts";
import { JumpAuth } from "./auth.ts";
import { serveJumpCommands } from "./jump_session.ts";
import { openBackend } from "./backend_open.ts";
import { handleSessionChannel } from "./channels.ts";
import type { ConnFacts } from "./events.ts";
import { Forwarding } from "./forwarding.ts";
import { plainIp } from "./identify.ts";
import { PolicyState } from "./policy_state.ts";
import { isKnownSource } from "../../policy/mod.ts";
import { createRuntime, type Runtime, type SshProxyDeps } from "./runtime.ts";
import { ProxySession } from "./session.ts";
import { ClientAgent, localAddressOf, releaseCrypto } from "./ssh2_internals.ts";
import { createServer, type IncomingConnection } from "./ssh2_types.ts";
import { batchWrites } from "./write_batching.ts";
import { algorithmsReady, serverAlgorithms } from "./algorithms.ts";
import { sshCryptoSummary } from "./ssh2_crypto.ts";
import { SETUP_DEFAULTS, SetupCounter } from "./setup_guard.ts";
import { sourceKey } from "../source_key.ts";
import { GateSlots, passProxyGate, proxyRefusalEvent } from "../proxy_gate.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

export interface SshProxy {
  /** binds every address; returns them with the ports actually bound (port 0 = any) */
  listen(addresses: ListenAddress[]): Promise<ListenAddress[]>;
  /** live sessions by id */
  sessions(): ReadonlyMap<string, ProxySession>;
  /** connections currently open (authenticated or not) */
  connectionCount(): number;
  /** reloads the policy snapshot now (tests; production reloads on NOTIFY) */
  reloadPolicy(): Promise<void>;
  /** connections not logged in yet (all listeners) */
  setupCount(): number;
  /** writes folded pre-identification audit summaries now and waits for pending audit rows (tests) */
  auditsSettled(): Promise<void>;
  /** stops listening, ends every session with `reason`, closes rows; resolves when all are closed */
  close(reason?: "shutdown" | "error"): Promise<void>;
}

function newRef(): string {
  // 10 characters of base32: short enough to read out over the phone, unique enough for a log
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

export async function createSshProxy(deps: SshProxyDeps): Promise<SshProxy> {
  await algorithmsReady;
  const packetCrypto = sshCryptoSummary();
  if (packetCrypto.backend === "openssl") {
    deps.log.info("SSH packet crypto: OpenSSL libcrypto", { detail: packetCrypto.detail });
  } else deps.log.warn("SSH packet crypto: node:crypto (slower)", { reason: packetCrypto.detail });
  const live = new Map<string, ProxySession>();
  const conns = new Set<IncomingConnection>();
  const pendingFinish = new Set<Promise<void>>();
  const policy = new PolicyState(deps.sql, deps.log, (snap) => {
    for (const s of live.values()) s.recheck(snap);
  });
  const rt: Runtime = createRuntime(deps, () => policy.current(), new LineAllocator("ssh", 100));
  const limits = { ...SETUP_DEFAULTS, ...deps.setup };
  const setups = new SetupCounter(limits);
  /** a socket still in setup: what releases its slots, and what to do once its key exchange is done */
  const inSetup = new WeakMap<object, { kexDone(): void; loggedIn(): void }>();
  let refusedSetups = 0;

  const orphaned = await closeOrphanedSessions(
    deps.sql,
    deps.nodeId,
    "ssh",
    "still active at proxy start: the previous process ended without closing it",
  );
  if (orphaned.length) {
    deps.log.warn("closed sessions left active by a previous run", { count: orphaned.length });
  }
  await policy.start();

  let kill: Unlisten | null = null;
  kill = await listenSessionKill(deps.sql, (k) => {
    const s = live.get(k.session_id);
    if (s) {
      deps.log.info("session killed", { session: k.session_id, actor: k.actor });
      s.terminate("killed", `killed by ${k.actor}`);
    }
  });

  const ssh = createServer(deps.hostKeys, {
    ident: "jumphost",
    keepaliveInterval: deps.keepaliveMs ?? CLIENT_KEEPALIVE_MS,
    keepaliveCountMax: 3,
    algorithms: serverAlgorithms(deps.algorithms),
  });
  ssh.on("connection", (conn) => onConnection(conn));

  function onConnection(conn: IncomingConnection): void {
    conns.add(conn);
    const local = localAddressOf(conn);
    const sock = (conn as unknown as { _sock?: { remoteAddress?: string } })._sock;
    const facts: ConnFacts = {
      ref: newRef(),
      sourceIp: plainIp(sock?.remoteAddress),
      localIp: plainIp(local.ip),
      username: "",
    };
    const agent = new ClientAgent(conn);
    const gone = new AbortController();
    const auth = new JumpAuth(rt, conn, facts, {
      passthrough: (id) =>
        openBackend(
          rt,
          facts,
          id,
          { applianceKey: null, agent: null, password: id.password },
          agent,
          gone.signal,
        ),
      // an identified user waiting for an access request's decision is past the login grace and the caps
      waiting: () => setup?.loggedIn(),
    });
    let session: ProxySession | null = null;
    let timeoutReason: string | null = null;
    const setup = sock ? inSetup.get(sock) : undefined;
    conn.once("handshake", () => setup?.kexDone());

    conn.on("authentication", (ctx) => auth.handle(ctx));
    conn.on("ready", () => {
      setup?.loggedIn();
      if (auth.jumpUser) return serveJumpCommands(rt, conn, facts, auth.jumpUser);
      const identity = auth.identity;
      if (!identity) return conn.end(); // cannot happen: ready follows accept() of an identity
      session = new ProxySession(rt, conn, facts, identity, agent);
      live.set(session.id, session);
      const fwd = new Forwarding(session, conn);
      fwd.attach();
      session.onBackend = (b) => fwd.attachBackend(b);
      session.onForwardingWithdrawn = (why) => fwd.withdraw(why);
      conn.on("session", (accept) => {
        const ss = accept();
        if (ss) handleSessionChannel(session!, ss);
      });
      session.start();
    });
    conn.on("error", (e) => {
      if (e.level === "client-timeout") timeoutReason = e.message;
      deps.log.debug("client connection error", { ref: facts.ref, error: e.message, level: e.level });
    });
    conn.on("close", () => {
      gone.abort();
      releaseCrypto(conn);
      conns.delete(conn);
      // a backend opened to check a passthrough password, for a client that left before using it
      if (!session) auth.unusedBackend?.client.end();
      const done = session
        ? session.finish(timeoutReason ? "timeout" : undefined, timeoutReason ?? "client disconnected")
        : auth.closedUnauthenticated();
      const p = done.catch((e) =>
        deps.log.error("closing a session failed", { ref: facts.ref, error: (e as Error).message })
      )
        .finally(() => {
          if (session) live.delete(session.id);
          pendingFinish.delete(p);
        });
      pendingFinish.add(p);
    });
  }

  const listeners: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const gateSlots = new GateSlots();

  /**
   * Counts a new socket into its listener's and its source's setup slots (refusing it beyond a cap) and
   * arms the key-exchange and login timeouts; the slots are freed at login or close.
   */
  function guardSetup(sock: net.Socket, listener: string): boolean {
    const source = plainIp(sock.remoteAddress);
    const slot = sourceKey(source);
    const cut = (reason: string, fields: Record<string, unknown> = {}) => {
      deps.metrics?.setupRefused.inc({ protocol: "ssh", reason });
      // a flood would log a line per connection: one in a hundred says how many
      if (refusedSetups++ % 100 === 0) {
        deps.log.warn("SSH connection cut before login", {
          reason,
          source,
          refused: refusedSetups,
          ...fields,
        });
      }
      sock.destroy();
    };
    const verdict = setups.admit(listener, slot, isKnownSource(policy.current(), source));
    if (verdict !== "ok") {
      cut(verdict === "listener_full" ? "setup_cap" : "setup_cap_source", {
        in_setup: setups.inSetup(listener),
      });
      return false;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(kex);
      clearTimeout(grace);
      setups.release(listener, slot);
    };
    const kex = setTimeout(() => cut("kex_timeout"), limits.kexTimeoutMs);
    const grace = setTimeout(() => cut("login_timeout"), limits.loginGraceMs);
    inSetup.set(sock, { kexDone: () => clearTimeout(kex), loggedIn: release });
    sock.once("close", release);
    return true;
  }

  /** Hands a socket (its PROXY header, if any, already read) to ssh2 within the setup caps. */
  function accept(sock: net.Socket, listener: string): void {
    if (sock.destroyed) return;
    if (!guardSetup(sock, listener)) return;
    batchWrites(sock);
    ssh.injectSocket(sock);
  }

  return {
    async listen(addresses) {
      const bound: ListenAddress[] = [];
      for (const a of addresses) {
        const listener = `${a.host}:${a.port}`;
        const l = net.createServer((sock) => {
          deps.metrics?.connections.inc({ protocol: "ssh" });
          // socket errors surface through the ssh2 connection; this keeps them from being unhandled
          sock.on("error", () => {});
          sock.setNoDelay(true);
          sock.setKeepAlive(true, TCP_KEEPALIVE_MS);
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          const pp = deps.proxyProtocol;
          if (!pp || pp.from.length === 0) return accept(sock, listener);
          // behind a balancer: its header first, so that the setup caps, identity and routing below see
          // the client's address and the address it dialled
          void passProxyGate(sock, pp, deps.proxyHeaderTimeoutMs, gateSlots).then((r) => {
            if (r.ok) return accept(sock, listener);
            sock.destroy();
            deps.metrics?.setupRefused.inc({ protocol: "ssh", reason: r.reason });
            const e = proxyRefusalEvent("ssh", r, listener);
            if (e) void rt.preauthAudit(e, r.reason);
            else if (r.reason === "proxy_gate_full" && refusedSetups++ % 100 === 0) {
              deps.log.warn("SSH connection cut before login", { reason: r.reason, source: r.peer });
            }
          });
        });
        // past the descriptor budget the excess is closed at once, the listener keeps accepting (fd_budget.ts)
        capConnections(l);
        await new Promise<void>((resolve, reject) => {
          // worded like the RDP listener's, so an operator reads the same line for both
          const onError = (e: Error) =>
            reject(new Error(`cannot listen on ${a.host}:${a.port}: ${e.message}`));
          l.once("error", onError);
          l.listen({ host: a.host, port: a.port, backlog: 1024 }, () => {
            l.off("error", onError);
            resolve();
          });
        });
        l.on("error", (e) => deps.log.error("listener error", { error: e.message }));
        listeners.push(l);
        const addr = l.address() as net.AddressInfo;
        bound.push({ host: a.host, port: addr.port });
      }
      return bound;
    },
    sessions: () => live,
    connectionCount: () => conns.size,
    reloadPolicy: () => policy.reload(),
    setupCount: () => setups.inSetup(),
    auditsSettled: async () => {
      await rt.flushPreauth();
      await rt.replayAudit();
      await rt.retry.flush();
    },
    async close(reason = "shutdown") {
      // net.Server.close() calls back only once every connection has ended, so end them meanwhile
      const closed = Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      // a session tells its terminals why and hangs up itself a moment later (an immediate DISCONNECT,
      // written together with the notice, would make OpenSSH exit before printing it); end the rest now
      const withSession = new Set([...live.values()].map((s) => s.conn));
      for (const s of live.values()) s.terminate(reason, "proxy stopping");
      for (const c of conns) if (!withSession.has(c)) c.end();
      // give clients a moment to close cleanly, then cut what is left
      const deadline = Date.now() + 3000;
      while (conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const sock of sockets) sock.destroy();
      await closed;
      while (pendingFinish.size > 0) await Promise.all([...pendingFinish]);
      await kill?.unlisten().catch(() => {});
      await policy.stop();
      await rt.flushPreauth();
      rt.stop();
      await rt.closeAudit();
      await rt.retry.flush();
      rt.retry.stop();
    },
  };
}
