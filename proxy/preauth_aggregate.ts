// Pure: folds repeated audit events from not-yet-identified clients (SSH denials of unknown addresses, RDP
// garbage and protocol errors before identification) into one row per source, action and reason per window.
// The first event of a quiet key is written at once (a single denial is audited as before); the repeats of a
// window become one summary row with their count when the window ends. An anonymous flood therefore writes
// at most two rows per source and reason in its first minute and one per minute after that. The number of
// keys is bounded: beyond it, sources are folded into one "many sources" key per action and reason.
import type { AuditEvent } from "../db/audit_events.ts";

export interface PreauthOptions {
  windowMs?: number;
  maxKeys?: number;
  /** detail fields kept from each folded event, as samples (e.g. the SSH "ref" a user quotes) */
  sampleField?: string;
  maxSamples?: number;
}

interface Bucket {
  first: AuditEvent;
  windowStart: number;
  /** events folded into this window and not written yet */
  count: number;
  firstAt: number;
  lastAt: number;
  sources: Set<string>;
  samples: string[];
}

export const PREAUTH_WINDOW_MS = 60_000;
export const PREAUTH_MAX_KEYS = 10_000;

export class PreauthAggregator {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #sampleField: string | null;
  readonly #maxSamples: number;
  #buckets = new Map<string, Bucket>();
  /** events folded so far (for a metric) */
  folded = 0;

  constructor(o: PreauthOptions = {}) {
    this.#windowMs = o.windowMs ?? PREAUTH_WINDOW_MS;
    this.#maxKeys = o.maxKeys ?? PREAUTH_MAX_KEYS;
    this.#sampleField = o.sampleField ?? null;
    this.#maxSamples = o.maxSamples ?? 20;
  }

  get keys(): number {
    return this.#buckets.size;
  }

  /** Returns the event to write now, or null when it was folded into its window's summary. */
  add(e: AuditEvent, reason: string, now: number): AuditEvent | null {
    const source = e.sourceIp ?? "";
    let key = `${e.action}\u0000${source}\u0000${reason}`;
    if (!this.#buckets.has(key) && this.#buckets.size >= this.#maxKeys) {
      key = `${e.action}\u0000*\u0000${reason}`;
    }
    const b = this.#buckets.get(key);
    if (!b) {
      this.#buckets.set(key, {
        first: e,
        windowStart: now,
        count: 0,
        firstAt: now,
        lastAt: now,
        sources: new Set(),
        samples: [],
      });
      return e;
    }
    if (b.count === 0) b.firstAt = now;
    b.count++;
    b.lastAt = now;
    this.folded++;
    if (b.sources.size < 100) b.sources.add(source);
    const sample = this.#sampleField ? e.details?.[this.#sampleField] : undefined;
    if (typeof sample === "string" && b.samples.length < this.#maxSamples) b.samples.push(sample);
    return null;
  }

  /** Summaries of the windows that have ended by `now` (all of them with `flushAll`, at shutdown). */
  due(now: number, flushAll = false): AuditEvent[] {
    const out: AuditEvent[] = [];
    for (const [key, b] of this.#buckets) {
      if (!flushAll && now - b.windowStart < this.#windowMs) continue;
      if (b.count > 0) out.push(this.#summary(key, b));
      if (b.count === 0 || flushAll) {
        // quiet for a whole window: the next event is written at once again
        this.#buckets.delete(key);
      } else {
        b.windowStart = now;
        b.count = 0;
        b.sources.clear();
        b.samples = [];
      }
    }
    return out;
  }

  #summary(key: string, b: Bucket): AuditEvent {
    const many = key.split("\u0000")[1] === "*";
    const details: Record<string, unknown> = {
      ...(b.first.details ?? {}),
      aggregated: true,
      count: b.count,
      first_at: new Date(b.firstAt).toISOString(),
      last_at: new Date(b.lastAt).toISOString(),
      window_seconds: Math.round(this.#windowMs / 1000),
    };
    if (this.#sampleField) {
      delete details[this.#sampleField];
      details[`${this.#sampleField}s`] = b.samples;
    }
    if (many) details.sources = [...b.sources];
    // a row of its own: not the first event's id (that row exists) nor its time (first_at says it)
    const { id: _id, at: _at, ...first } = b.first;
    return {
      ...first,
      actor: many ? "unknown" : b.first.actor,
      sourceIp: many ? null : b.first.sourceIp,
      details,
    };
  }
}
