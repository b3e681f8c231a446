// One authenticated client connection: its backend leg (opened when first needed), its sessions row,
// recordings, utmp line, grant expiry, and how it ends (normal, error, timeout, killed, expired, revoked).
import { join } from "node:path";
import { type Allow, decide, type Snapshot } from "../../policy/mod.ts";
import { closeSession, openSession, type TerminationReason, updateSession } from "../../db/sessions.ts";
import { addRecording, finishRecording } from "../../db/recordings.ts";
import { AsciicastWriter } from "../../recorder/asciicast.ts";
import type { JumpIdentity } from "./auth.ts";
import { openBackend } from "./backend_open.ts";
import { type ConnFacts, sessionEnded, sessionStarted } from "./events.ts";
import { describeRemaining, type ExpiryStep, ExpiryTimer } from "./expiry.ts";
import { SessionMetadata } from "./metadata.ts";
import type { Runtime } from "./runtime.ts";
import { type ClientAgent, releaseCrypto } from "./ssh2_internals.ts";
import type { IncomingConnection } from "./ssh2_types.ts";
import { endText, warningText } from "./texts.ts";
import { type Backend, BackendError } from "./upstream.ts";
import { SessionDbError } from "./errors.ts";

export { SessionDbError };

/** A relayed channel as the session sees it (see channels.ts). */
export interface Relay {
  /** writes text into an interactive terminal (and its recording); no-op for exec/sftp */
  notify(text: string): void;
  close(): void;
}

export interface Recording {
  id: number;
  path: string;
  writer: AsciicastWriter;
}

export class ProxySession {
  readonly meta: SessionMetadata;
  readonly startedMs: number;
  decision: Allow;
  backend: Backend | null = null;
  rowId: number | null = null;
  agentForwarded = false;
  subsystem: string | null = null;
  readonly relays = new Set<Relay>();
  #backendP: Promise<Backend> | null = null;
  #recordings: Recording[] = [];
  #recN = 0;
  #ended = false;
  #finished: Promise<void> | null = null;
  #reason: TerminationReason = "normal";
  #detail: string | null = null;
  #expiry: ExpiryTimer;
  #utmpLine: string | undefined;
  #metaTimer: ReturnType<typeof setTimeout> | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #backendDown = false;
  #backendFailed = false;
  #triedAgent = false;
  onFinished: (() => void) | null = null;
  /** called once the backend leg is up (forwarding hooks its -R listeners there) */
  onBackend: ((b: Backend) => void) | null = null;

  constructor(
    readonly rt: Runtime,
    readonly conn: IncomingConnection,
    readonly facts: ConnFacts,
    readonly identity: JumpIdentity,
    readonly agent: ClientAgent,
  ) {
    this.decision = identity.decision;
    this.startedMs = Date.now();
    // records carry wall-clock time; the injected clock only drives grant decisions and expiry
    this.meta = new SessionMetadata(() => new Date());
    this.meta.route = identity.route;
    this.meta.jumpAuth = identity.method;
    this.meta.onChange = () => this.#scheduleMetaFlush();
    this.#expiry = new ExpiryTimer(rt.deps.clock, (s) => this.#onExpiryStep(s), rt.deps.warningsMs);
  }

  get id(): string {
    return this.facts.ref;
  }
  get ended(): boolean {
    return this.#ended;
  }
  get server(): string {
    return this.identity.server.name;
  }

  start(): void {
    this.#expiry.reset(this.decision.validUntil.getTime());
    if (this.identity.backend) {
      this.#backendP = this.#adopt(this.identity.backend);
      this.#backendP.catch(() => {});
    } else if (this.identity.password !== null) {
      // credentials are known now: overlap the backend handshake with the client's channel setup
      this.ensureBackend().catch(() => {});
    } else {
      void this.rt.deps.applianceKeyFor(this.server).then((key) => {
        if (key && !this.#ended) this.ensureBackend().catch(() => {});
      }, () => {});
    }
    // a client that never opens anything (ssh -N with a failed forward) is not kept forever
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (!this.backend && !this.#ended) this.terminate("error", "no backend session within 60 s");
    }, 60_000);
  }

  /**
   * The backend leg, connected on first use with the credentials known by then. An attempt that failed
   * before the client forwarded its agent is retried once with the agent.
   */
  ensureBackend(): Promise<Backend> {
    if (this.#ended) return Promise.reject(new BackendError("protocol", "session has ended"));
    if (!this.#backendP || (this.#backendFailed && this.agentForwarded && !this.#triedAgent)) {
      this.#triedAgent = this.agentForwarded;
      this.#backendFailed = false;
      const p = this.#connect();
      p.catch(() => this.#backendFailed = true);
      this.#backendP = p;
    }
    return this.#backendP;
  }

  /** ensureBackend() for a channel: waits out an attempt that started before the agent arrived. */
  async backendForChannel(): Promise<Backend> {
    try {
      return await this.ensureBackend();
    } catch (e) {
      if (e instanceof BackendError && e.code === "auth_failed" && this.agentForwarded && !this.#triedAgent) {
        return await this.ensureBackend();
      }
      throw e;
    }
  }

  async #connect(): Promise<Backend> {
    const applianceKey = await this.rt.deps.applianceKeyFor(this.server);
    const backend = await openBackend(this.rt, this.facts, this.identity, {
      applianceKey,
      agent: this.agentForwarded ? this.agent : null,
      password: this.identity.password,
    }, this.agent);
    return await this.#adopt(backend);
  }

  async #adopt(backend: Backend): Promise<Backend> {
    if (this.#ended) {
      backend.client.end();
      throw new BackendError("protocol", "session has ended");
    }
    let failed = false;
    backend.client.on("error", (e) => {
      failed = true;
      this.rt.deps.log.debug("backend error", { ref: this.id, error: e.message });
    });
    backend.client.on("close", () => {
      this.#backendDown = true;
      releaseCrypto(backend.client);
      this.terminate(failed ? "error" : "normal", "backend connection closed");
    });
    this.meta.backendAuth = backend.authMethod;
    if (backend.pinnedNow) this.meta.note(`host key pinned on first use: ${backend.hostKey.slice(0, 80)}`);
    const id = this.identity;
    try {
      this.rowId = await openSession(this.rt.deps.sql, {
        sessionId: this.id,
        userId: id.user.id,
        serverId: id.server.id,
        userName: id.user.name,
        serverName: id.server.name,
        protocol: "ssh",
        sourceIp: this.facts.sourceIp,
        proxyIp: this.facts.localIp || null,
        backendIp: id.server.address,
        backendPort: id.server.sshPort,
        sshLogin: id.login,
        policyId: this.decision.policyId,
        nodeId: this.rt.deps.nodeId,
        metadata: this.meta.toJSON(),
      });
    } catch (e) {
      // fail closed: no session without its row
      backend.client.end();
      this.rt.deps.log.error("cannot open the sessions row", { ref: this.id, error: (e as Error).message });
      throw new SessionDbError(`database unavailable: ${(e as Error).message}`);
    }
    this.backend = backend;
    this.onBackend?.(backend);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    void this.rt.audit(sessionStarted(this.facts, {
      sessionId: this.id,
      server: id.server.name,
      login: id.login,
      backendAuth: backend.authMethod,
      policyId: this.decision.policyId,
    }));
    this.#utmpLogin();
    return backend;
  }

  #utmpLogin(): void {
    const utmp = this.rt.deps.utmp;
    if (!utmp) return;
    this.#utmpLine = this.rt.lines.take();
    if (!this.#utmpLine) return this.meta.note("no free utmp line (ssh0-ssh99 all in use)");
    utmp.login({
      line: this.#utmpLine,
      user: this.identity.user.name,
      host: this.facts.sourceIp,
      addr: this.facts.sourceIp,
      session: this.rowId ?? 0,
      timeMs: Date.now(),
    }).catch((e) => this.rt.deps.log.warn("utmp login record failed", { error: (e as Error).message }));
  }

  /** Creates an asciicast recording for an interactive channel (mode 0600, streamed). */
  async startRecording(
    channel: string,
    pty: { cols: number; rows: number; term: string },
  ): Promise<Recording> {
    if (this.rowId === null) throw new SessionDbError("no sessions row");
    const d = new Date();
    const dir = join(
      this.rt.deps.recordingsDir,
      String(d.getUTCFullYear()),
      String(d.getUTCMonth() + 1).padStart(2, "0"),
      String(d.getUTCDate()).padStart(2, "0"),
    );
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${this.id}-${++this.#recN}.cast`);
    const id = this.identity;
    const writer = await AsciicastWriter.create(path, {
      width: pty.cols,
      height: pty.rows,
      timestamp: d.getTime() / 1000,
      title: `${id.user.name}: ${id.login}@${id.server.name} (${this.id})`,
      env: { TERM: pty.term || "xterm", SHELL: "/bin/sh" },
    });
    writer.onError = (e) => this.terminate("error", e.message);
    try {
      const recId = await addRecording(this.rt.deps.sql, {
        sessionRowId: this.rowId,
        kind: "asciicast",
        channel,
        path,
      });
      const rec = { id: recId, path, writer };
      this.#recordings.push(rec);
      return rec;
    } catch (e) {
      await writer.close();
      await Deno.remove(path).catch(() => {});
      throw new SessionDbError(`cannot register the recording: ${(e as Error).message}`);
    }
  }

  /** The current verdict for forwarding (re-decided: a shorter policy may have lapsed). */
  forwardingAllowed(): boolean {
    const snap = this.rt.snapshot();
    if (!snap || this.#ended) return false;
    const d = this.#decide(snap);
    return d.allowed && d.portForwarding;
  }

  #decide(snap: Snapshot) {
    const id = this.identity;
    return decide(
      snap,
      {
        sourceIp: this.facts.sourceIp,
        protocol: "ssh",
        serverId: id.server.id,
        login: id.login,
      },
      this.rt.now(),
      { userName: id.user.name },
    );
  }

  /** Re-evaluates the grant after a policy change: disconnects if it is gone, re-arms expiry otherwise. */
  recheck(snap: Snapshot): void {
    if (this.#ended) return;
    const d = this.#decide(snap);
    if (!d.allowed) {
      this.terminate(d.reason === "expired" ? "expired" : "revoked", `${d.reason}: ${d.detail}`);
      return;
    }
    if (d.policyId !== this.decision.policyId && this.rowId !== null) {
      void updateSession(this.rt.deps.sql, this.rowId, { policyId: d.policyId }).catch(() => {});
    }
    this.decision = d;
    this.#expiry.reset(d.validUntil.getTime());
  }

  #onExpiryStep(step: ExpiryStep): void {
    if (this.#ended) return;
    const until = this.decision.validUntil;
    if (step.kind === "warn") {
      const text = warningText(this.server, describeRemaining(step.remainingMs), until);
      for (const r of this.relays) r.notify(text);
      this.meta.note(`warned: ${describeRemaining(step.remainingMs)} left`);
      return;
    }
    const snap = this.rt.snapshot();
    const d = snap ? this.#decide(snap) : null;
    if (d?.allowed && d.validUntil.getTime() > until.getTime()) {
      this.decision = d;
      this.#expiry.reset(d.validUntil.getTime());
      return;
    }
    this.terminate("expired", `grant ended at ${until.toISOString()}`);
  }

  /** Ends the session for `reason`, telling interactive terminals why. */
  terminate(reason: TerminationReason, detail: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    this.#detail = detail;
    this.#expiry.cancel();
    if (reason !== "normal" && reason !== "timeout") {
      const text = endText(reason, this.server);
      for (const r of this.relays) r.notify(text);
    }
    for (const r of this.relays) r.close();
    this.backend?.client.end();
    this.conn.end();
  }

  /** The client connection closed: close the row, recordings and utmp line. Idempotent. */
  finish(reason?: TerminationReason, detail?: string): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      if (reason) this.#reason = reason;
      this.#detail = detail ?? this.#detail;
    }
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<void> {
    this.#expiry.cancel();
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#metaTimer) clearTimeout(this.#metaTimer);
    for (const r of this.relays) r.close();
    const backendClosed = this.#backendClosed();
    this.backend?.client.end();
    this.meta.agentUsed ||= this.agent.used;
    const endedAt = new Date();
    let size = 0;
    for (const rec of this.#recordings) {
      const n = await rec.writer.close();
      size += n;
      await this.rt.retry.run("recording end", () => finishRecording(this.rt.deps.sql, rec.id, n, endedAt));
    }
    if (this.rowId !== null) {
      const rowId = this.rowId;
      const metadata = this.meta.toJSON();
      await this.rt.retry.run("session close", async () => {
        await closeSession(this.rt.deps.sql, rowId, {
          reason: this.#reason,
          detail: this.#detail,
          recordingPath: this.#recordings[0]?.path ?? null,
          recordingSize: this.#recordings.length ? size : null,
          metadata,
          subsystem: this.subsystem,
          sshAgentUsed: this.meta.agentUsed,
          endedAt,
        });
      });
      await this.rt.audit(sessionEnded(this.facts, {
        sessionId: this.id,
        server: this.server,
        reason: this.#reason,
        detail: this.#detail,
        durationMs: Date.now() - this.startedMs,
      }));
      if (this.#utmpLine && this.rt.deps.utmp) {
        const line = this.#utmpLine;
        await this.rt.deps.utmp.logout(line, Date.now())
          .catch((e) => this.rt.deps.log.warn("utmp logout record failed", { error: (e as Error).message }));
        this.rt.lines.release(line);
      }
    }
    await backendClosed;
    this.onFinished?.();
  }

  /** Resolves when the backend connection has closed (bounded: a dead peer cannot hold the session). */
  #backendClosed(): Promise<void> {
    const b = this.backend;
    if (!b || this.#backendDown) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 3000);
      b.client.on("close", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #scheduleMetaFlush(): void {
    if (this.#metaTimer !== null || this.rowId === null || this.#ended) return;
    this.#metaTimer = setTimeout(() => {
      this.#metaTimer = null;
      if (this.rowId === null || this.#ended) return;
      this.meta.agentUsed ||= this.agent.used;
      updateSession(this.rt.deps.sql, this.rowId, {
        metadata: this.meta.toJSON(),
        subsystem: this.subsystem,
        sshAgentUsed: this.meta.agentUsed,
      }).catch((e) => this.rt.deps.log.debug("metadata update failed", { error: (e as Error).message }));
    }, 500);
  }

  /** Marks what the session is doing (the `sessions --active` subsystem column) right away. */
  setSubsystem(name: string): void {
    if (this.subsystem === name) return;
    this.subsystem = name;
    this.#scheduleMetaFlush();
  }
}
