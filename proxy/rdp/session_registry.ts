// Logical RDP sessions on this node. RDP clients open several TCP connections for one session
// (negotiation retries, auto-reconnect after a network blip), so a connection from the same source IP
// by the same user to the same server joins the session that is live or ended less than `windowMs`
// ago. A session row stays open for `windowMs` after its last connection dropped without an MCS
// disconnect; a deliberate end (disconnect PDU, kill, expiry, revoke, shutdown) closes it at once.
// ended_at is always the real end, not the end of the grace window. Dedupe is per node (in memory).
import type { Sql } from "../../db/client.ts";
import { closeSession, openSession, type TerminationReason, updateSession } from "../../db/sessions.ts";
import { indexSessionCommandsOf } from "../../recorder/command_index.ts";
import { addRecording, finishRecording } from "../../db/recordings.ts";
import type { RecordingSealer } from "../recording_seal.ts";
import type { AuditEvent } from "../../db/audit_events.ts";
import type { Allow, Server } from "../../policy/mod.ts";
import { MetaSummary } from "./meta_events.ts";
import { type AuditContext, sessionEnded, sessionStarted } from "./audit.ts";

export interface LiveConnection {
  readonly sourceIp: string;
  readonly serverId: number;
  readonly cookie: string | null;
  /** the jump user NLA proved on this connection, or null (identified by source address alone) */
  readonly provenUser: string | null;
  /** the Windows login the session uses, once known (NLA, vault choice or Client Info), else null */
  readonly login: string | null;
  decision: Allow;
  /** End this connection (Set Error Info + disconnect where possible). */
  terminate(reason: TerminationReason, detail: string): void;
}

export interface LogicalSession {
  readonly rowId: number;
  readonly sessionId: string;
  readonly key: string;
  readonly ctx: AuditContext;
  readonly startedAt: Date;
  readonly live: Set<LiveConnection>;
  connections: number;
  summary: MetaSummary;
  info: Record<string, unknown>;
  recordings: { rowId: number; path: string; size: number }[];
  dirty: boolean;
  closed: boolean;
  grace: ReturnType<typeof setTimeout> | undefined;
  /** How the last connection ended, while waiting for a reconnect. */
  pendingEnd: ConnectionEnd | null;
}

export interface ConnectionEnd {
  reason: TerminationReason;
  detail: string | null;
  endedAt: Date;
  /** Close the session now instead of waiting for a reconnect. */
  final: boolean;
}

export interface RegistryOptions {
  sql: Sql;
  nodeId: string;
  windowMs: number;
  audit: (e: AuditEvent) => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** seals a closed recording with its signed manifest (proxy/recording_seal.ts) */
  seal?: RecordingSealer;
  /** a recording was closed and sealed (its seek index is built: recorder/rdp_replay/index_prebuild.ts) */
  recordingClosed?: (rowId: number, path: string) => void;
}

export interface JoinRequest {
  sourceIp: string;
  proxyIp: string | null;
  server: Server;
  decision: Allow;
  ctx: AuditContext;
}

export function sessionKey(sourceIp: string, userId: number, serverId: number): string {
  return `${sourceIp}|${userId}|${serverId}`;
}

export class SessionRegistry {
  #byKey = new Map<string, LogicalSession>();
  /** Keys of sessions killed less than windowMs ago: their clients may not come straight back. */
  #killed = new Map<string, number>();
  #creating = new Map<string, Promise<LogicalSession>>();
  #closing = new Set<Promise<void>>();

  constructor(private readonly o: RegistryOptions) {}

  /** Every live connection (for revocation and expiry checks). */
  *liveConnections(): Iterable<LiveConnection> {
    for (const s of this.#byKey.values()) yield* s.live;
  }

  findBySessionId(sessionId: string): LogicalSession | undefined {
    for (const s of this.#byKey.values()) if (s.sessionId === sessionId) return s;
    return undefined;
  }

  /** The session this connection belongs to (joined or newly opened) and its connection number. */
  async join(req: JoinRequest, conn: LiveConnection): Promise<{ session: LogicalSession; index: number }> {
    const key = sessionKey(req.sourceIp, req.decision.userId, req.server.id);
    for (;;) {
      const pending = this.#creating.get(key);
      if (pending) {
        await pending.catch(() => {});
        continue;
      }
      const s = this.#byKey.get(key);
      if (s && !s.closed) {
        clearTimeout(s.grace);
        s.grace = undefined;
        s.pendingEnd = null;
        s.live.add(conn);
        const index = ++s.connections;
        s.dirty = true;
        this.o.audit(sessionStarted({ ...s.ctx, ...req.ctx, sessionId: s.sessionId }, index, true));
        return { session: s, index };
      }
      const creating = this.#open(key, req);
      this.#creating.set(key, creating);
      try {
        const session = await creating;
        session.live.add(conn);
        session.connections = 1;
        this.o.audit(sessionStarted(session.ctx, 1, false));
        return { session, index: 1 };
      } finally {
        this.#creating.delete(key);
      }
    }
  }

  async #open(key: string, req: JoinRequest): Promise<LogicalSession> {
    const sessionId = crypto.randomUUID();
    const rowId = await openSession(this.o.sql, {
      sessionId,
      userId: req.decision.userId,
      serverId: req.server.id,
      userName: req.decision.userName,
      serverName: req.server.name,
      protocol: "rdp",
      sourceIp: req.sourceIp,
      proxyIp: req.proxyIp,
      backendIp: req.server.address,
      backendPort: req.server.rdpPort,
      sshLogin: null,
      policyId: req.decision.policyId,
      nodeId: this.o.nodeId,
      metadata: {},
    });
    const s: LogicalSession = {
      rowId,
      sessionId,
      key,
      ctx: { ...req.ctx, sessionId },
      startedAt: new Date(),
      live: new Set(),
      connections: 0,
      summary: new MetaSummary(),
      info: {},
      recordings: [],
      dirty: false,
      closed: false,
      grace: undefined,
      pendingEnd: null,
    };
    this.#byKey.set(key, s);
    return s;
  }

  async addRecording(s: LogicalSession, index: number, path: string): Promise<number> {
    const rowId = await addRecording(this.o.sql, {
      sessionRowId: s.rowId,
      kind: "rdp",
      channel: `connection-${index}`,
      path,
    });
    s.recordings.push({ rowId, path, size: 0 });
    return rowId;
  }

  /**
   * `written`: the file exists (false when the connection ended before its recording could start, e.g. a
   * malformed PDU right after TLS: there is nothing to seal, and a "seal failed" would be a false alarm).
   */
  async finishRecording(
    s: LogicalSession,
    rowId: number,
    size: number,
    endedAt: Date,
    written = true,
  ): Promise<void> {
    const r = s.recordings.find((x) => x.rowId === rowId);
    if (r) r.size = size;
    await finishRecording(this.o.sql, rowId, size, endedAt);
    if (written) await this.o.seal?.(rowId, s.sessionId);
    if (r) this.o.recordingClosed?.(rowId, r.path);
  }

  /** A connection of `s` ended. */
  connectionEnded(s: LogicalSession, conn: LiveConnection, end: ConnectionEnd): Promise<void> {
    s.live.delete(conn);
    s.dirty = true;
    if (s.live.size > 0 || s.closed) return this.flush(s);
    if (end.final) return this.#close(s, end);
    clearTimeout(s.grace);
    s.pendingEnd = end;
    s.grace = setTimeout(() => void this.#close(s, end), this.o.windowMs);
    return this.flush(s);
  }

  /**
   * True when a session with this key was killed within the window: an auto-reconnecting client must
   * not undo an administrator's kill (a revoke or expiry is caught by the policy decision itself).
   */
  recentlyKilled(key: string, nowMs = Date.now()): boolean {
    for (const [k, until] of this.#killed) if (until <= nowMs) this.#killed.delete(k);
    return this.#killed.has(key);
  }

  /** End every live connection of a session (kill). False when it is not on this node. */
  terminateSession(sessionId: string, reason: TerminationReason, detail: string): boolean {
    const s = this.findBySessionId(sessionId);
    if (!s || s.closed) return false;
    if (reason === "killed") this.#killed.set(s.key, Date.now() + this.o.windowMs);
    if (s.live.size === 0) {
      void this.#close(s, { reason, detail, endedAt: new Date(), final: true });
      return true;
    }
    for (const c of [...s.live]) c.terminate(reason, detail);
    return true;
  }

  metadataOf(s: LogicalSession): Record<string, unknown> {
    return {
      ...s.info,
      connections: s.connections,
      recordings: s.recordings.map((r) => r.path),
      ...s.summary.toJSON(),
    };
  }

  /** Write changed metadata of live sessions (called on a timer). */
  async flush(only?: LogicalSession): Promise<void> {
    for (const s of only ? [only] : this.#byKey.values()) {
      if (!s.dirty || s.closed) continue;
      s.dirty = false;
      await updateSession(this.o.sql, s.rowId, { metadata: this.metadataOf(s) }).catch((e) => {
        s.dirty = true;
        this.o.log("cannot update RDP session metadata", {
          session: s.sessionId,
          error: (e as Error).message,
        });
      });
    }
  }

  #close(s: LogicalSession, end: ConnectionEnd): Promise<void> {
    if (s.closed) return Promise.resolve();
    s.closed = true;
    clearTimeout(s.grace);
    s.grace = undefined;
    const p = this.#writeClose(s, end).finally(() => {
      this.#closing.delete(p);
      if (this.#byKey.get(s.key) === s) this.#byKey.delete(s.key);
    });
    this.#closing.add(p);
    return p;
  }

  async #writeClose(s: LogicalSession, end: ConnectionEnd): Promise<void> {
    const size = s.recordings.reduce((n, r) => n + r.size, 0);
    const metadata = this.metadataOf(s);
    for (let attempt = 1;; attempt++) {
      try {
        await closeSession(this.o.sql, s.rowId, {
          reason: end.reason,
          detail: end.detail,
          recordingPath: s.recordings[0]?.path ?? null,
          recordingSize: size,
          metadata,
          endedAt: end.endedAt,
        });
        break;
      } catch (e) {
        this.o.log("cannot close RDP session row", {
          session: s.sessionId,
          attempt,
          error: (e as Error).message,
        });
        if (attempt >= 3) return;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
    // what was typed and copied, for search: once the row is final; a failure loses only the index
    // (`jumphost search reindex` rebuilds it)
    await indexSessionCommandsOf(this.o.sql, s.rowId).catch((e) =>
      this.o.log("cannot index the RDP session for search", {
        session: s.sessionId,
        error: (e as Error).message,
      })
    );
    this.o.audit(sessionEnded(s.ctx, end.reason, end.detail, {
      connections: s.connections,
      duration_seconds: Math.max(0, Math.round((end.endedAt.getTime() - s.startedAt.getTime()) / 1000)),
      recording_size: size,
    }));
  }

  /** Close sessions waiting for a reconnect now (service stop); live ones must have ended first. */
  async closeAll(reason: TerminationReason, detail: string): Promise<void> {
    for (const s of [...this.#byKey.values()]) {
      if (s.pendingEnd) void this.#close(s, s.pendingEnd);
      else if (!s.closed) void this.#close(s, { reason, detail, endedAt: new Date(), final: true });
    }
    await Promise.all([...this.#closing]);
  }
}
