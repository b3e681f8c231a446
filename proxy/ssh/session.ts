// One authenticated client connection: its backend leg (opened when first needed), its sessions row,
// recordings, utmp line, grant expiry, and how it ends (normal, error, timeout, killed, expired, revoked).
import { indexSessionCommandsOf } from "../../recorder/command_index.ts";
import { type Allow, decide, type Snapshot } from "../../policy/mod.ts";
import { type TerminationReason, updateSession } from "../../db/sessions.ts";
import type { JumpIdentity } from "./auth.ts";
import { openBackend } from "./backend_open.ts";
import type { ConnFacts } from "./events.ts";
import { describeRemaining, type ExpiryStep, ExpiryTimer } from "./expiry.ts";
import { SessionMetadata } from "./metadata.ts";
import type { Runtime } from "./runtime.ts";
import { type ClientAgent, releaseCrypto } from "./ssh2_internals.ts";
import type { IncomingConnection } from "./ssh2_types.ts";
import { endText, warningText } from "./texts.ts";
import { type Backend, BackendError } from "./upstream.ts";
import { SessionDbError } from "./errors.ts";
import { type Recording, SessionRecordings } from "./session_recordings.ts";
import { SessionTracking } from "./session_tracking.ts";

export type { Recording };

/** A relayed channel as the session sees it (see channels.ts). */
export interface Relay {
  /** writes text into an interactive terminal (and its recording); no-op for exec/sftp */
  notify(text: string): void;
  close(): void;
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
  /** kept copies of transferred files still being written (proxy/ssh/file_keep.ts) */
  readonly keeping = new Set<Promise<void>>();
  #backendP: Promise<Backend> | null = null;
  #recordings: SessionRecordings;
  #tracking: SessionTracking;
  #ended = false;
  #finished: Promise<void> | null = null;
  #reason: TerminationReason = "normal";
  #detail: string | null = null;
  #expiry: ExpiryTimer;
  #metaTimer: ReturnType<typeof setTimeout> | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #hangup: ReturnType<typeof setTimeout> | undefined;
  #terminateLater: ReturnType<typeof setTimeout> | undefined;
  #backendDown = false;
  #backendFailed = false;
  /** aborts a backend connection attempt still in flight when the session ends */
  #abort = new AbortController();
  #triedAgent = false;
  onFinished: (() => void) | null = null;
  /** called once the backend leg is up (forwarding hooks its -R listeners there) */
  onBackend: ((b: Backend) => void) | null = null;
  /** called when a policy change leaves the session allowed but takes port forwarding away */
  onForwardingWithdrawn: ((why: string) => void) | null = null;

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
    if (identity.passwordWithheld) {
      this.meta.note("the jump password was not passed to the backend (password passthrough is off)");
    }
    this.meta.onChange = () => this.#scheduleMetaFlush();
    this.#expiry = new ExpiryTimer(rt.deps.clock, (s) => this.#onExpiryStep(s), rt.deps.warningsMs);
    this.#tracking = new SessionTracking(rt, facts, identity);
    this.#recordings = new SessionRecordings(
      rt,
      facts.ref,
      `${identity.user.name}: ${identity.login}@${identity.server.name} (${facts.ref})`,
      (e) => this.recordingFailed(e.message),
    );
  }

  /**
   * A recording could not be created or written (disk full …): audited, then the session ends (default,
   * fail closed) or, with on_recording_failure = continue, goes on unrecorded. True when it goes on.
   * `atStart`: the recording of a new channel could not be created; the caller refuses that channel only.
   */
  recordingFailed(error: string, atStart = false): boolean {
    const goOn = this.rt.deps.onRecordingFailure === "continue";
    this.rt.deps.log.error(
      goOn ? "SSH recording failed; going on unrecorded" : "SSH recording failed; ending the session",
      { ref: this.id, error },
    );
    void this.rt.audit({
      actor: this.identity.user.name,
      action: "recording.failed",
      target: this.identity.server.name,
      sourceIp: this.facts.sourceIp,
      success: false,
      details: {
        protocol: "ssh",
        session: this.id,
        error,
        on_recording_failure: goOn ? "continue" : "disconnect",
      },
    });
    if (goOn) this.meta.note(`recording failed, session went on unrecorded: ${error.slice(0, 200)}`);
    else if (!atStart) this.terminate("error", `recording failed: ${error}`);
    return goOn;
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
    const backend = await openBackend(
      this.rt,
      this.facts,
      this.identity,
      {
        applianceKey,
        agent: this.agentForwarded ? this.agent : null,
        password: this.identity.password,
      },
      this.agent,
      this.#abort.signal,
    );
    return await this.#adopt(backend);
  }

  async #adopt(backend: Backend): Promise<Backend> {
    if (this.#ended) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closed = new Promise<void>((r) => {
        timer = setTimeout(r, 3000);
        backend.client.on("close", () => r());
      });
      backend.client.end();
      await closed;
      clearTimeout(timer);
      releaseCrypto(backend.client);
      throw new BackendError("protocol", "session has ended");
    }
    let failure: { reason: TerminationReason; detail: string } | null = null;
    backend.client.on("error", (e) => {
      // a backend that stops answering keepalives is a timeout; anything else an error
      failure = {
        reason: e.level === "client-timeout" ? "timeout" : "error",
        detail: `backend: ${e.message}`,
      };
      this.rt.deps.log.debug("backend error", { ref: this.id, error: e.message });
    });
    backend.client.on("close", () => {
      this.#backendDown = true;
      releaseCrypto(backend.client);
      const f = failure as { reason: TerminationReason; detail: string } | null;
      this.terminate(f?.reason ?? "normal", f?.detail ?? "backend connection closed");
    });
    this.meta.backendAuth = backend.authMethod;
    if (backend.pinnedNow) this.meta.note(`host key pinned on first use: ${backend.hostKey.slice(0, 80)}`);
    try {
      this.rowId = await this.#tracking.open(this.decision.policyId, backend.authMethod, this.meta);
    } catch (e) {
      backend.client.end(); // fail closed: no session without its row
      throw e;
    }
    this.backend = backend;
    // the password was needed for this login only
    this.identity.password = null;
    this.onBackend?.(backend);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    return backend;
  }

  /** Creates an asciicast recording for an interactive channel (mode 0600, streamed). */
  startRecording(
    channel: string,
    pty: { cols: number; rows: number; term: string },
    noTerminal = false,
  ): Promise<Recording> {
    if (this.rowId === null) return Promise.reject(new SessionDbError("no sessions row"));
    return this.#recordings.start(this.rowId, channel, pty, noTerminal);
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
    this.#adoptDecision(d);
  }

  /** A still-allowing decision replaces the current one: expiry re-armed, forwards closed if withdrawn. */
  #adoptDecision(d: Allow): void {
    this.decision = d;
    this.#expiry.reset(d.validUntil.getTime());
    if (!d.portForwarding) {
      this.onForwardingWithdrawn?.(`port forwarding no longer allowed (policy ${d.policyId})`);
    }
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
      this.#adoptDecision(d);
      return;
    }
    this.terminate("expired", `grant ended at ${until.toISOString()}`);
  }

  /** terminate() after `ms`, so a message written to a channel reaches the client first. */
  terminateAfter(ms: number, reason: TerminationReason, detail: string | null): void {
    if (this.#ended || this.#terminateLater !== undefined) return;
    this.#terminateLater = setTimeout(() => this.terminate(reason, detail), ms);
  }

  /** Ends the session for `reason`, telling interactive terminals why. */
  terminate(reason: TerminationReason, detail: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.abort();
    this.#reason = reason;
    this.#detail = detail;
    this.#expiry.cancel();
    if (reason !== "normal" && reason !== "timeout") {
      const text = endText(reason, this.server);
      for (const r of this.relays) r.notify(text);
    }
    const hadChannels = this.relays.size > 0;
    for (const r of this.relays) r.close();
    this.backend?.client.end();
    // Closing the channels makes OpenSSH print what it got and leave by itself; a DISCONNECT sent at once
    // can overtake the last output (ssh exits on it without draining). Hang up after a grace period.
    if (hadChannels) this.#hangup = setTimeout(() => this.conn.end(), 1000);
    else this.conn.end();
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
    this.#abort.abort();
    // an attempt in flight fails at once (aborted) or, if it just succeeded, is ended by #adopt
    await this.#backendP?.catch(() => {});
    this.#expiry.cancel();
    clearTimeout(this.#hangup);
    clearTimeout(this.#terminateLater);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#metaTimer) clearTimeout(this.#metaTimer);
    for (const r of this.relays) r.close();
    await Promise.allSettled([...this.keeping]);
    const backendClosed = this.#backendClosed();
    this.backend?.client.end();
    this.meta.agentUsed ||= this.agent.used;
    const endedAt = new Date();
    const { size } = await this.#recordings.closeAll(endedAt);
    await this.#tracking.close({
      reason: this.#reason,
      detail: this.#detail,
      recordingPath: this.#recordings.first,
      recordingSize: size,
      metadata: this.meta.toJSON(),
      subsystem: this.subsystem,
      sshAgentUsed: this.meta.agentUsed,
      endedAt,
      durationMs: Date.now() - this.startedMs,
    });
    await backendClosed;
    // what the session ran, for search: once it has closed (its row and recordings are final); a failure
    // loses only the index (`jumphost search reindex` rebuilds it)
    if (this.rowId !== null) {
      await indexSessionCommandsOf(this.rt.deps.sql, this.rowId, this.rt.deps.recordingKeys).catch((e) =>
        this.rt.deps.log.warn("cannot index the session's commands", {
          ref: this.id,
          error: (e as Error).message,
        })
      );
    }
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
