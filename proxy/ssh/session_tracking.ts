// Where a session is tracked outside the proxy: its sessions row, its session_start/end audit rows and its
// utmp/wtmp line. Opened when the backend accepts; closed (retried during a database outage) at the end.
import { closeSession, openSession, type TerminationReason } from "../../db/sessions.ts";
import type { JumpIdentity } from "./auth.ts";
import { SessionDbError } from "./errors.ts";
import { type ConnFacts, sessionEnded, sessionStarted } from "./events.ts";
import type { SessionMetadata } from "./metadata.ts";
import type { Runtime } from "./runtime.ts";

export class SessionTracking {
  rowId: number | null = null;
  #line: string | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly facts: ConnFacts,
    private readonly id: JumpIdentity,
  ) {}

  /** Opens the row (fail closed: throws SessionDbError), then audits and writes the utmp login. */
  async open(policyId: number, backendAuth: string, meta: SessionMetadata): Promise<number> {
    const { rt, facts, id } = this;
    try {
      this.rowId = await openSession(rt.deps.sql, {
        sessionId: facts.ref,
        userId: id.user.id,
        serverId: id.server.id,
        userName: id.user.name,
        serverName: id.server.name,
        protocol: "ssh",
        sourceIp: facts.sourceIp,
        proxyIp: facts.localIp || null,
        backendIp: id.server.address,
        backendPort: id.server.sshPort,
        sshLogin: id.login,
        policyId,
        nodeId: rt.deps.nodeId,
        metadata: meta.toJSON(),
      });
    } catch (e) {
      rt.deps.log.error("cannot open the sessions row", { ref: facts.ref, error: (e as Error).message });
      throw new SessionDbError(`database unavailable: ${(e as Error).message}`);
    }
    void rt.audit(sessionStarted(facts, {
      sessionId: facts.ref,
      server: id.server.name,
      login: id.login,
      backendAuth,
      policyId,
    }));
    this.#utmpLogin(meta);
    return this.rowId;
  }

  #utmpLogin(meta: SessionMetadata): void {
    const utmp = this.rt.deps.utmp;
    if (!utmp) return;
    this.#line = this.rt.lines.take();
    if (!this.#line) return meta.note("no free utmp line (ssh0-ssh99 all in use)");
    utmp.login({
      line: this.#line,
      user: this.id.user.name,
      host: this.facts.sourceIp,
      addr: this.facts.sourceIp,
      session: this.rowId ?? 0,
      timeMs: Date.now(),
    }).catch((e) => this.rt.deps.log.warn("utmp login record failed", { error: (e as Error).message }));
  }

  async close(
    end: {
      reason: TerminationReason;
      detail: string | null;
      recordingPath: string | null;
      recordingSize: number | null;
      metadata: Record<string, unknown>;
      subsystem: string | null;
      sshAgentUsed: boolean;
      endedAt: Date;
      durationMs: number;
    },
  ): Promise<void> {
    const rowId = this.rowId;
    if (rowId === null) return;
    const { rt } = this;
    // the audit event first, not behind the sessions row: during an outage it goes to the spool at once
    // (durable across a crash), while the row's write may wait for a connection attempt to time out
    const audited = rt.audit(sessionEnded(this.facts, {
      sessionId: this.facts.ref,
      server: this.id.server.name,
      reason: end.reason,
      detail: end.detail,
      durationMs: end.durationMs,
    }));
    await rt.retry.run("session close", async () => {
      await closeSession(rt.deps.sql, rowId, end);
    });
    await audited;
    if (this.#line && rt.deps.utmp) {
      const line = this.#line;
      await rt.deps.utmp.logout(line, Date.now())
        .catch((e) => rt.deps.log.warn("utmp logout record failed", { error: (e as Error).message }));
      rt.lines.release(line);
    }
  }
}
