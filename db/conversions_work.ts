// conversions (pool side): claim a job exactly once across every node (FOR UPDATE SKIP LOCKED), report
// progress under the claim token, finish / retry / quarantine / release, recover jobs whose pool died,
// and the registry of live pools. Request-side functions are in conversions.ts.
import type { Sql } from "./client.ts";
import type { ConversionRow, ConversionState } from "./conversions.ts";

export interface ClaimedJob {
  id: number;
  recording_id: number;
  recording_path: string;
  session_id: string;
  attempts: number;
  max_attempts: number;
  rush: boolean;
  /** the token every later report must carry */
  locked_by: string;
}

export interface ClaimInput {
  node: string;
  lock: string;
  now: Date;
  /** claim only this job (the CLI converting one job in-process) */
  onlyId?: number;
}

/** Takes the next due pending job (rushed first, then oldest) for this pool slot, or null. */
export async function claimNextConversion(sql: Sql, c: ClaimInput): Promise<ClaimedJob | null> {
  const [r] = await sql<ClaimedJob[]>`
    WITH next AS (
      SELECT id FROM conversions
      WHERE state = 'pending' AND next_attempt_at <= ${c.now}
        ${c.onlyId !== undefined ? sql`AND id = ${c.onlyId}` : sql``}
      ORDER BY rush DESC, rushed_at, requested_at, id
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE conversions c SET state = 'running', locked_by = ${c.lock}, worker_node = ${c.node},
        heartbeat_at = ${c.now}, started_at = ${c.now}, attempts = c.attempts + 1, progress = 0,
        eta_seconds = NULL
      FROM next WHERE c.id = next.id AND c.state = 'pending'
      RETURNING c.id, c.recording_id, c.attempts, c.max_attempts, c.rush, c.locked_by
    )
    SELECT claimed.*, r.path AS recording_path, s.session_id
    FROM claimed JOIN recordings r ON r.id = claimed.recording_id JOIN sessions s ON s.id = r.session_id`;
  return r ?? null;
}

/**
 * Progress and heartbeat of a claimed job. False when the claim is no longer ours (cancelled, or
 * recovered as stale): the caller must stop converting.
 */
export async function reportConversionProgress(
  sql: Sql,
  id: number,
  lock: string,
  p: { progress: number; etaSeconds: number | null; sourceSize?: number; sourceMtime?: Date | null },
  now: Date,
): Promise<boolean> {
  const progress = Math.min(100, Math.max(0, p.progress));
  const eta = p.etaSeconds === null ? null : Math.max(0, Math.round(p.etaSeconds));
  const r =
    await sql`UPDATE conversions SET progress = ${progress}, eta_seconds = ${eta}, heartbeat_at = ${now},
      source_size = ${p.sourceSize ?? sql`source_size`},
      source_mtime = ${p.sourceMtime === undefined ? sql`source_mtime` : p.sourceMtime}
    WHERE id = ${id} AND locked_by = ${lock} AND state = 'running'`;
  return r.count > 0;
}

export interface ConversionOutput {
  outputPath: string;
  outputSize: number;
  width: number;
  height: number;
  frames: number;
  durationMs: number;
}

/** Marks a claimed job done; false when it was cancelled meanwhile (the output should then be removed). */
export async function finishConversion(
  sql: Sql,
  id: number,
  lock: string,
  o: ConversionOutput,
  now: Date,
): Promise<boolean> {
  const r = await sql`UPDATE conversions SET state = 'done', progress = 100, eta_seconds = 0, error = NULL,
      output_path = ${o.outputPath}, output_size = ${o.outputSize}, video_width = ${o.width},
      video_height = ${o.height}, video_frames = ${o.frames}, duration_ms = ${o.durationMs},
      locked_by = NULL, heartbeat_at = NULL, finished_at = ${now}
    WHERE id = ${id} AND locked_by = ${lock} AND state = 'running'`;
  return r.count > 0;
}

/**
 * A failed attempt: back to pending after `retryDelayMs` while attempts remain, else failed.
 * Returns the new state, or null when the claim was no longer ours.
 */
export async function failConversion(
  sql: Sql,
  id: number,
  lock: string,
  error: string,
  retryDelayMs: number,
  now: Date,
): Promise<"pending" | "failed" | null> {
  const retryAt = new Date(now.getTime() + retryDelayMs);
  const [r] = await sql<{ state: "pending" | "failed" }[]>`UPDATE conversions SET
      state = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
      next_attempt_at = CASE WHEN attempts < max_attempts THEN ${retryAt}::timestamptz ELSE next_attempt_at END,
      finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ${now}::timestamptz END,
      error = ${error.slice(0, 4000)}, locked_by = NULL, heartbeat_at = NULL, eta_seconds = NULL
    WHERE id = ${id} AND locked_by = ${lock} AND state = 'running'
    RETURNING state`;
  return r?.state ?? null;
}

/** The recording cannot be converted (corrupt or unsupported content): no retry, the error is kept. */
export async function quarantineConversion(
  sql: Sql,
  id: number,
  lock: string,
  error: string,
  now: Date,
): Promise<boolean> {
  const r = await sql`UPDATE conversions SET state = 'quarantined', error = ${error.slice(0, 4000)},
      locked_by = NULL, heartbeat_at = NULL, eta_seconds = NULL, finished_at = ${now}
    WHERE id = ${id} AND locked_by = ${lock} AND state = 'running'`;
  return r.count > 0;
}

/** Gives a claimed job back untouched (pool shutting down): pending again, the attempt not counted. */
export async function releaseConversion(sql: Sql, id: number, lock: string): Promise<boolean> {
  const r = await sql`UPDATE conversions SET state = 'pending', attempts = GREATEST(0, attempts - 1),
      locked_by = NULL, heartbeat_at = NULL, eta_seconds = NULL, progress = 0
    WHERE id = ${id} AND locked_by = ${lock} AND state = 'running'`;
  return r.count > 0;
}

/**
 * Running jobs whose heartbeat stopped (their pool crashed or lost the database) go back to pending
 * after `retryDelayMs`, or to failed when that was their last attempt.
 */
export async function recoverStaleConversions(
  sql: Sql,
  now: Date,
  staleMs: number,
  retryDelayMs: number,
): Promise<{ id: number; state: ConversionState }[]> {
  const before = new Date(now.getTime() - staleMs);
  const retryAt = new Date(now.getTime() + retryDelayMs);
  return await sql<{ id: number; state: ConversionState }[]>`UPDATE conversions SET
      state = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
      next_attempt_at = CASE WHEN attempts < max_attempts THEN ${retryAt}::timestamptz ELSE next_attempt_at END,
      finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ${now}::timestamptz END,
      error = 'the converting node (' || coalesce(worker_node, '?') || ') stopped reporting',
      locked_by = NULL, heartbeat_at = NULL, eta_seconds = NULL
    WHERE state = 'running' AND heartbeat_at < ${before}
    RETURNING id, state`;
}

/** The earliest time a pending job becomes due (for the pool's timer), or null. */
export async function nextDueConversion(sql: Sql): Promise<Date | null> {
  const [r] = await sql<{ at: Date | null }[]>`SELECT min(next_attempt_at) AS at FROM conversions
    WHERE state = 'pending'`;
  return r?.at ?? null;
}

// ---- MP4 cache bookkeeping ----

/** Forgets an evicted MP4 (the job stays done; asking again converts anew). */
export async function forgetConversionOutput(sql: Sql, outputPath: string): Promise<void> {
  await sql`UPDATE conversions SET output_path = NULL WHERE output_path = ${outputPath}`;
}

/** Which of these paths a done job still points at. */
export async function outputsInUse(sql: Sql, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const rows = await sql<{ output_path: string }[]>`SELECT output_path FROM conversions
    WHERE output_path = ANY(${paths}::text[])`;
  return new Set(rows.map((r) => r.output_path));
}

// ---- live pools ----

export async function heartbeatPool(
  sql: Sql,
  p: { poolId: string; nodeId: string; slots: number },
  now: Date,
): Promise<void> {
  await sql`INSERT INTO conversion_pools (pool_id, node_id, slots, started_at, heartbeat_at)
    VALUES (${p.poolId}, ${p.nodeId}, ${p.slots}, ${now}, ${now})
    ON CONFLICT (pool_id) DO UPDATE SET heartbeat_at = ${now}, slots = ${p.slots}`;
  // rows of pools that died long ago are of no use to anyone
  await sql`DELETE FROM conversion_pools WHERE heartbeat_at < ${new Date(now.getTime() - 3600_000)}`;
}

export async function removePool(sql: Sql, poolId: string): Promise<void> {
  await sql`DELETE FROM conversion_pools WHERE pool_id = ${poolId}`;
}

export interface PoolRow {
  pool_id: string;
  node_id: string;
  slots: number;
  started_at: Date;
  heartbeat_at: Date;
}

/** Pools that reported within `withinMs` of `now`. */
export function livePools(sql: Sql, now: Date, withinMs: number): Promise<PoolRow[]> {
  return sql<PoolRow[]>`SELECT * FROM conversion_pools
    WHERE heartbeat_at >= ${new Date(now.getTime() - withinMs)} ORDER BY node_id, pool_id`;
}

export type { ConversionRow };
