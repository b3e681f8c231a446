// Where a proxy's audit events go: a bounded queue written a few rows at a time, and the pre-identification
// aggregator in front of it. Identified events are never folded: they wait in the queue (callers that await
// write() are held back while it is long), and one that cannot be queued or written is logged and counted,
// never lost silently. Anonymous repeats (a flood of garbage or of unknown addresses) become summary rows, so
// they can neither fill the database nor the memory of pending writes.
import type { AuditEvent } from "../db/audit_events.ts";
import { PreauthAggregator, type PreauthOptions } from "./preauth_aggregate.ts";

export interface AuditSinkDeps {
  /** writes one row; throws when it cannot */
  write(e: AuditEvent): Promise<void>;
  log: {
    warn(msg: string, fields?: Record<string, unknown>): void;
    error(msg: string, fields?: Record<string, unknown>): void;
  };
  now?: () => number;
  /** rows written at once (default 4) */
  concurrency?: number;
  /** events waiting beyond this are refused, logged and counted (default 10,000) */
  maxQueued?: number;
  /** queue length from which write() resolves only once the event is written (default 1,000) */
  backpressureAt?: number;
  preauth?: PreauthOptions;
  /** how often ended windows are summarised (default 5 s) */
  sweepMs?: number;
  /** an event that could not be written: "queue_full" or "write_failed" (already logged) */
  onLost?: (e: AuditEvent, reason: "queue_full" | "write_failed") => void;
  /** an anonymous event counted in a summary instead of its own row */
  onAggregated?: () => void;
}

interface Job {
  e: AuditEvent;
  done: () => void;
}

export class AuditSink {
  readonly #d: AuditSinkDeps;
  readonly #agg: PreauthAggregator;
  #queue: Job[] = [];
  #running = 0;
  #idle: (() => void)[] = [];
  #sweep: ReturnType<typeof setInterval> | null;
  #closed = false;
  readonly #max: number;
  readonly #concurrency: number;
  readonly #backpressureAt: number;

  constructor(d: AuditSinkDeps) {
    this.#d = d;
    this.#agg = new PreauthAggregator(d.preauth);
    this.#max = d.maxQueued ?? 10_000;
    this.#concurrency = d.concurrency ?? 4;
    this.#backpressureAt = d.backpressureAt ?? 1_000;
    this.#sweep = setInterval(() => this.#flushWindows(false), d.sweepMs ?? 5_000);
  }

  #now(): number {
    return this.#d.now?.() ?? Date.now();
  }

  /** Rows waiting or being written. */
  get pending(): number {
    return this.#queue.length + this.#running;
  }

  /** Keys the aggregator holds (sources × reasons in their window). */
  get aggregatedKeys(): number {
    return this.#agg.keys;
  }

  /**
   * An identified event (or any that must have its own row). Resolves once it is queued while the queue is
   * short, once it is written while it is long (backpressure); never rejects.
   */
  write(e: AuditEvent): Promise<void> {
    if (this.#queue.length >= this.#max) {
      this.#d.log.error("audit queue full; event not written", {
        action: e.action,
        actor: e.actor,
        source: e.sourceIp,
        queued: this.#queue.length,
        details: e.details,
      });
      this.#d.onLost?.(e, "queue_full");
      return Promise.resolve();
    }
    const written = Promise.withResolvers<void>();
    this.#queue.push({ e, done: written.resolve });
    this.#pump();
    return this.#queue.length >= this.#backpressureAt ? written.promise : Promise.resolve();
  }

  /** An event about a client not identified yet: repeats per source and reason are folded per window. */
  preauth(e: AuditEvent, reason: string): void {
    const now = this.#agg.add(e, reason, this.#now());
    if (now) void this.write(now);
    else this.#d.onAggregated?.();
  }

  #flushWindows(all: boolean): void {
    for (const s of this.#agg.due(this.#now(), all)) void this.write(s);
  }

  /** Writes the summaries of the open windows now, as if they had ended (tests); resolves once written. */
  flushWindows(): Promise<void> {
    this.#flushWindows(true);
    return this.settled();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      this.#d.write(job.e)
        .catch((err) => {
          this.#d.log.error("cannot write audit row", {
            action: job.e.action,
            actor: job.e.actor,
            source: job.e.sourceIp,
            error: (err as Error).message,
            details: job.e.details,
          });
          this.#d.onLost?.(job.e, "write_failed");
        })
        .finally(() => {
          this.#running--;
          job.done();
          this.#pump();
          if (this.pending === 0) { for (const r of this.#idle.splice(0)) r(); }
        });
    }
  }

  /** Resolves when every row queued so far is written (windows still open stay open). */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Writes the summaries of every open window and waits for the queue to drain. */
  async close(): Promise<void> {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    if (!this.#closed) {
      this.#closed = true;
      this.#flushWindows(true);
    }
    await this.settled();
  }
}
