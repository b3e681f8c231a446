// conversions (request side): queue an RDP recording for MP4 conversion, rush or cancel a job, read the
// queue, and hear about changes. The pools' side (claim, progress, finish) is in conversion_work.ts.
import type { Sql } from "./client.ts";

export type ConversionState = "pending" | "running" | "done" | "failed" | "cancelled" | "quarantined";
export const LIVE_STATES: readonly ConversionState[] = ["pending", "running"];

/** Pending jobs allowed at once (all nodes together); one more is refused with QueueFullError. */
export const MAX_PENDING = 10;

export interface ConversionRow {
  id: number;
  recording_id: number;
  state: ConversionState;
  rush: boolean;
  rushed_at: Date | null;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date;
  progress: number;
  eta_seconds: number | null;
  error: string | null;
  source_size: number;
  source_mtime: Date | null;
  output_path: string | null;
  output_size: number | null;
  video_width: number | null;
  video_height: number | null;
  video_frames: number | null;
  duration_ms: number | null;
  worker_node: string | null;
  locked_by: string | null;
  heartbeat_at: Date | null;
  requested_by: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cancelled_by: string | null;
}

export type ConversionErrorCode = "queue_full" | "not_found" | "finished" | "not_rdp" | "no_file";

/** A request the queue refuses; the message is meant for the person who asked. */
export class ConversionQueueError extends Error {
  override name = "ConversionQueueError";
  constructor(readonly code: ConversionErrorCode, message: string) {
    super(message);
  }
}

// serialises enqueues so the pending limit holds when several nodes enqueue at once
const ENQUEUE_LOCK = 7_346_012_005;

export interface EnqueueInput {
  recordingId: number;
  /** the recording file as found now (the worker records what it really converted) */
  sourceSize: number;
  sourceMtime: Date | null;
  rush: boolean;
  requestedBy: string;
  now: Date;
  maxPending?: number;
  maxAttempts?: number;
}

/**
 * Queues a conversion, or returns the recording's pending/running job (rushing it if asked).
 * Throws ConversionQueueError("queue_full") when MAX_PENDING jobs already wait.
 */
export async function enqueueConversion(
  sql: Sql,
  e: EnqueueInput,
): Promise<{ job: ConversionRow; created: boolean }> {
  const limit = e.maxPending ?? MAX_PENDING;
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${ENQUEUE_LOCK})`;
    const [rec] = await tx<{ kind: string }[]>`SELECT kind FROM recordings WHERE id = ${e.recordingId}`;
    if (!rec) throw new ConversionQueueError("not_found", `recording ${e.recordingId} not found`);
    if (rec.kind !== "rdp") {
      throw new ConversionQueueError("not_rdp", `recording ${e.recordingId} is not an RDP recording`);
    }
    const [live] = await tx<ConversionRow[]>`SELECT * FROM conversions
      WHERE recording_id = ${e.recordingId} AND state IN ('pending', 'running') FOR UPDATE`;
    if (live) {
      if (!e.rush || live.rush || live.state !== "pending") return { job: live, created: false };
      const [rushed] = await tx<ConversionRow[]>`UPDATE conversions SET rush = true, rushed_at = ${e.now}
        WHERE id = ${live.id} RETURNING *`;
      return { job: rushed, created: false };
    }
    const [{ n }] = await tx<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM conversions WHERE state = 'pending'`;
    if (n >= limit) {
      throw new ConversionQueueError(
        "queue_full",
        `the conversion queue is full (${n} jobs pending, at most ${limit}); ` +
          "try again when some have finished, or cancel one",
      );
    }
    const [job] = await tx<ConversionRow[]>`
      INSERT INTO conversions (recording_id, rush, rushed_at, max_attempts, next_attempt_at, source_size,
                               source_mtime, requested_by, requested_at)
      VALUES (${e.recordingId}, ${e.rush}, ${e.rush ? e.now : null}, ${e.maxAttempts ?? 3}, ${e.now},
              ${e.sourceSize}, ${e.sourceMtime}, ${e.requestedBy}, ${e.now})
      RETURNING *`;
    return { job, created: true };
  }) as { job: ConversionRow; created: boolean };
}

export interface RecordingRef {
  id: number;
  kind: "asciicast" | "rdp";
  path: string;
  size: number;
  ended_at: Date | null;
  /** sessions.session_id */
  session_id: string;
}

/** A recording with its session's text id, for conversion requests and downloads. */
export async function findRecordingRef(sql: Sql, recordingId: number): Promise<RecordingRef | null> {
  const [r] = await sql<RecordingRef[]>`SELECT r.id, r.kind, r.path, r.size, r.ended_at, s.session_id
    FROM recordings r JOIN sessions s ON s.id = r.session_id WHERE r.id = ${recordingId}`;
  return r ?? null;
}

/** The RDP recordings of a session (by its text id), oldest first. */
export function rdpRecordingsOfSession(sql: Sql, sessionId: string): Promise<RecordingRef[]> {
  return sql<RecordingRef[]>`SELECT r.id, r.kind, r.path, r.size, r.ended_at, s.session_id
    FROM recordings r JOIN sessions s ON s.id = r.session_id
    WHERE s.session_id = ${sessionId} AND r.kind = 'rdp' ORDER BY r.started_at, r.id`;
}

export async function getConversion(sql: Sql, id: number): Promise<ConversionRow | null> {
  const [r] = await sql<ConversionRow[]>`SELECT * FROM conversions WHERE id = ${id}`;
  return r ?? null;
}

/** The newest job of a recording (any state), or null. */
export async function latestConversionOf(sql: Sql, recordingId: number): Promise<ConversionRow | null> {
  const [r] = await sql<ConversionRow[]>`SELECT * FROM conversions WHERE recording_id = ${recordingId}
    ORDER BY id DESC LIMIT 1`;
  return r ?? null;
}

/** The newest finished conversion whose MP4 is still kept, or null. */
export async function latestOutputOf(sql: Sql, recordingId: number): Promise<ConversionRow | null> {
  const [r] = await sql<ConversionRow[]>`SELECT * FROM conversions
    WHERE recording_id = ${recordingId} AND state = 'done' AND output_path IS NOT NULL
    ORDER BY id DESC LIMIT 1`;
  return r ?? null;
}

async function live(sql: Sql, id: number): Promise<ConversionRow> {
  const r = await getConversion(sql, id);
  if (!r) throw new ConversionQueueError("not_found", `conversion job ${id} not found`);
  if (!LIVE_STATES.includes(r.state)) {
    throw new ConversionQueueError("finished", `conversion job ${id} has already ended (${r.state})`);
  }
  return r;
}

/** Moves a pending job ahead of the ordinary ones (no-op for a running job). */
export async function rushConversion(sql: Sql, id: number, now: Date): Promise<ConversionRow> {
  const [r] = await sql<ConversionRow[]>`UPDATE conversions SET rush = true, rushed_at = ${now}
    WHERE id = ${id} AND state = 'pending' AND NOT rush RETURNING *`;
  return r ?? await live(sql, id);
}

/** Cancels a pending or running job; the pool running it stops on the notification. */
export async function cancelConversion(
  sql: Sql,
  id: number,
  actor: string,
  now: Date,
): Promise<ConversionRow> {
  const [r] = await sql<ConversionRow[]>`UPDATE conversions SET state = 'cancelled', locked_by = NULL,
      heartbeat_at = NULL, finished_at = ${now}, cancelled_by = ${actor}, eta_seconds = NULL
    WHERE id = ${id} AND state IN ('pending', 'running') RETURNING *`;
  if (r) return r;
  await live(sql, id); // throws the reason
  throw new ConversionQueueError("finished", `conversion job ${id} has already ended`);
}

export interface QueueRow extends ConversionRow {
  session_id: string;
  recording_path: string;
  /** 1-based place among pending jobs in claim order (null unless pending) */
  position: number | null;
}

/** Running and pending jobs in the order they run, then the `recent` newest finished ones. */
export function listQueue(sql: Sql, opts: { recent?: number } = {}): Promise<QueueRow[]> {
  const recent = Math.min(Math.max(opts.recent ?? 0, 0), 500);
  return sql<QueueRow[]>`
    WITH q AS (
      SELECT c.*, s.session_id, r.path AS recording_path,
        CASE WHEN c.state = 'pending' THEN row_number() OVER (
          PARTITION BY c.state = 'pending' ORDER BY c.rush DESC, c.rushed_at, c.requested_at, c.id) END
          AS position
      FROM conversions c JOIN recordings r ON r.id = c.recording_id JOIN sessions s ON s.id = r.session_id
      WHERE c.state IN ('pending', 'running')
    ), f AS (
      SELECT c.*, s.session_id, r.path AS recording_path, NULL::bigint AS position
      FROM conversions c JOIN recordings r ON r.id = c.recording_id JOIN sessions s ON s.id = r.session_id
      WHERE c.state NOT IN ('pending', 'running')
      ORDER BY c.finished_at DESC, c.id DESC LIMIT ${recent}
    )
    SELECT * FROM (
      SELECT *, 0 AS grp FROM q UNION ALL SELECT *, 1 AS grp FROM f
    ) x
    ORDER BY grp, state <> 'running', position NULLS LAST, finished_at DESC, id`;
}

export interface ConversionChange {
  id: number;
  recording_id: number;
  state: ConversionState;
}

export const CONVERSION_CHANNEL = "conversion_changed";

export interface Unlisten {
  unlisten(): Promise<void>;
}

/** Calls back on every job state/rush change; `onListen` also fires after a reconnect (changes may be missed). */
export async function listenConversionChanged(
  sql: Sql,
  onChange: (c: ConversionChange) => void,
  onListen: () => void = () => {},
): Promise<Unlisten> {
  return await sql.listen(CONVERSION_CHANNEL, (payload) => {
    let c: ConversionChange;
    try {
      c = JSON.parse(payload) as ConversionChange;
    } catch (_e) {
      return; // not one of ours
    }
    if (typeof c?.id === "number" && typeof c.state === "string") onChange(c);
  }, onListen);
}
