// Audit events that survive a database outage and a crash during it. Each event gets its id and time when
// it happens. While the database answers, events are written directly; the first failed write switches to
// the spool (proxy/audit_spool.ts): from then on every event is appended there (fsync'd, in order) until a
// replay has written the whole spool to the database, in order, and emptied it. A spool left by a previous
// run is replayed at start. Rows carry their event id, so a replay cut short by a crash and run again
// writes no row twice.
import type { AuditEvent } from "../db/audit_events.ts";
import type { AuditSpool } from "./audit_spool.ts";

export interface DurableAuditDeps {
  /** writes one row, idempotent by `e.id`; throws when it cannot */
  write(e: AuditEvent): Promise<void>;
  spool: AuditSpool;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
    error(msg: string, fields?: Record<string, unknown>): void;
  };
  /** a direct write slower than this is spooled as well (default 2 s) */
  directTimeoutMs?: number;
  /** first retry of the replay after a failure (doubles up to 10 s; default 1 s) */
  retryMs?: number;
  /** an event appended to the spool */
  onSpooled?: (bytes: number) => void;
  /** an event refused by a full spool (already logged) */
  onSpoolFull?: (e: AuditEvent) => void;
  /**
   * true when the database refused the row for what it contains (it would block the spool forever): such an
   * event is logged with its content, reported through onRejected and not retried
   */
  isRejected?: (err: unknown) => boolean;
  onRejected?: (e: AuditEvent) => void;
  /** the spool was written to the database and emptied */
  onReplayed?: (events: number) => void;
}

export function stampEvent(e: AuditEvent): AuditEvent {
  return { ...e, id: e.id ?? crypto.randomUUID(), at: e.at ?? new Date() };
}

export class DurableAudit {
  readonly #d: DurableAuditDeps;
  #spooling: boolean;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #delay: number;
  #replay: Promise<boolean> | null = null;
  #stopped = false;
  /** events replayed since the spool last filled */
  #replayed = 0;

  constructor(d: DurableAuditDeps) {
    this.#d = d;
    this.#delay = d.retryMs ?? 1000;
    this.#spooling = d.spool.size > 0;
    if (this.#spooling) {
      d.log.warn("audit spool from a previous run: replaying it", {
        path: d.spool.path,
        bytes: d.spool.size,
      });
      this.#arm(0);
    }
  }

  /** true while events go to the spool (the database was unreachable) */
  get spooling(): boolean {
    return this.#spooling;
  }

  /** Writes the event now, or spools it; never rejects (a full spool is logged and reported). */
  async write(event: AuditEvent): Promise<void> {
    const e = stampEvent(event);
    if (!this.#spooling) {
      // a write that hangs (a connection attempt waiting for its timeout) is spooled too after a while: the
      // event is durable from then on, and whichever of the two writes comes second is skipped by its id
      let timer: ReturnType<typeof setTimeout> | undefined;
      const slow = new Promise<"slow">((r) =>
        timer = setTimeout(() => r("slow"), this.#d.directTimeoutMs ?? 2000)
      );
      try {
        const r = await Promise.race([this.#d.write(e), slow]);
        if (r !== "slow") return;
        if (!this.#spooling) {
          this.#d.log.warn("database slow to answer: audit events go to the local spool", {
            path: this.#d.spool.path,
          });
        }
      } catch (err) {
        if (this.#rejected(e, err)) return;
        if (!this.#spooling) {
          this.#d.log.warn("database unreachable: audit events go to the local spool", {
            path: this.#d.spool.path,
            error: (err as Error).message,
          });
        }
      } finally {
        clearTimeout(timer);
      }
    }
    this.#toSpool(e);
  }

  #rejected(e: AuditEvent, err: unknown): boolean {
    if (!this.#d.isRejected?.(err)) return false;
    this.#d.log.error("the database refused an audit row; not retried", {
      error: (err as Error).message,
      action: e.action,
      actor: e.actor,
      target: e.target,
      source: e.sourceIp,
      at: e.at?.toISOString(),
      details: e.details,
    });
    this.#d.onRejected?.(e);
    return true;
  }

  #toSpool(e: AuditEvent): void {
    const before = this.#d.spool.size;
    let ok = false;
    try {
      ok = this.#d.spool.append(e);
    } catch (err) {
      this.#d.log.error("cannot append to the audit spool", { error: (err as Error).message });
    }
    if (!ok) {
      this.#d.log.error("audit spool full; event not written", {
        path: this.#d.spool.path,
        max_bytes: this.#d.spool.maxBytes,
        action: e.action,
        actor: e.actor,
        target: e.target,
        source: e.sourceIp,
        at: e.at?.toISOString(),
        details: e.details,
      });
      this.#d.onSpoolFull?.(e);
    } else {
      this.#d.onSpooled?.(this.#d.spool.size - before);
    }
    this.#spooling = true;
    this.#arm(this.#delay);
  }

  #arm(ms: number): void {
    if (this.#timer !== null || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.replay();
    }, ms);
  }

  /** Writes the spool to the database in order; true once it is empty. One replay runs at a time. */
  replay(): Promise<boolean> {
    this.#replay ??= this.#replayOnce().finally(() => this.#replay = null);
    return this.#replay;
  }

  async #replayOnce(): Promise<boolean> {
    const spool = this.#d.spool;
    let offset = 0;
    for (;;) {
      if (offset >= spool.size) {
        // caught up: nothing can be appended between this check and clear() (both synchronous)
        if (spool.size > 0) spool.clear();
        const n = this.#replayed;
        this.#replayed = 0;
        if (this.#spooling) {
          this.#d.log.info("audit spool written to the database", { events: n });
          this.#d.onReplayed?.(n);
        }
        this.#spooling = false;
        this.#delay = this.#d.retryMs ?? 1000;
        return true;
      }
      const { events, end } = spool.readFrom(
        offset,
        (line) => this.#d.log.error("damaged line in the audit spool; skipped", { line: line.slice(0, 500) }),
      );
      for (const e of events) {
        try {
          await this.#d.write(e);
          this.#replayed++;
        } catch (err) {
          if (this.#rejected(e, err)) continue;
          // still down: the spool keeps everything from `offset` (rows written before are skipped by id)
          this.#delay = Math.min(this.#delay * 2, 10_000);
          this.#arm(this.#delay);
          return false;
        }
      }
      offset = end;
    }
  }

  /** At shutdown: one last replay attempt (what stays in the spool is replayed at the next start). */
  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#spooling) await this.replay().catch(() => false);
    this.#d.spool.close();
  }
}
