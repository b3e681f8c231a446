// Runs one claimed conversion job: fingerprint the recording, convert it in a Worker into a .part file,
// report progress + heartbeat under the claim token, then publish the MP4 (0640, atomic rename) and
// record the outcome — done, retry with backoff, failed, quarantined, or released on shutdown.
import type { Sql } from "../../db/client.ts";
import {
  type ClaimedJob,
  failConversion,
  finishConversion,
  quarantineConversion,
  releaseConversion,
  reportConversionProgress,
} from "../../db/conversions_work.ts";
import { enforceCacheCap, ensureCacheDir, fingerprintOf, outputPathFor } from "./cache.ts";
import { type Backoff, DEFAULT_BACKOFF, failureAction, retryDelayMs } from "./outcome.ts";
import { ConversionFailed, convertInWorker, type WorkerProgress } from "./worker_client.ts";

export interface LogLike {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface JobRunnerDeps {
  sql: Sql;
  nodeId: string;
  mp4Dir: string;
  /** whose recordings identity opens encrypted recordings */
  dataDir?: string;
  cacheMaxBytes: number;
  log: LogLike;
  now: () => Date;
  /** progress reaches the database at most this often (ms) */
  reportMs: number;
  /** and at least this often, as the claim's heartbeat */
  heartbeatMs: number;
  backoff?: Backoff;
  ffmpeg?: string;
  /** x264 preset (default CONVERSION_PRESET) */
  preset?: string;
  /** where conversions run (default: a Worker per job) */
  convert?: typeof convertInWorker;
  /** called with each progress report written (the CLI's in-process mode draws its bar from it) */
  onProgress?: (p: WorkerProgress) => void;
}

export { CONVERSION_PRESET } from "../../core/conversion.ts";
import { CONVERSION_PRESET } from "../../core/conversion.ts";

export type JobEnd = "done" | "retry" | "failed" | "quarantined" | "cancelled" | "released" | "lost";

export interface RunningJob {
  id: number;
  /** "cancelled": the job was cancelled in the database; "shutdown": give it back to the queue */
  stop(reason: "cancelled" | "shutdown"): void;
  done: Promise<JobEnd>;
}

const LABEL: Record<string, string> = {
  recording: "corrupt recording",
  render: "cannot render",
  ffmpeg: "ffmpeg",
  internal: "conversion error",
  worker: "conversion worker",
  aborted: "aborted",
};

export function runJob(deps: JobRunnerDeps, job: ClaimedJob): RunningJob {
  let stopReason: "cancelled" | "shutdown" | "lost" | null = null;
  let cancelConversion: (() => void) | null = null;
  const stop = (r: "cancelled" | "shutdown" | "lost") => {
    stopReason ??= r;
    cancelConversion?.();
  };
  const done = run(deps, job, () => stopReason, (c) => (cancelConversion = c), () => stop("lost")).catch(
    (e) => {
      // the database went away mid-job: the claim expires and another attempt follows (stale recovery)
      deps.log.error("conversion job ended abnormally", { job: job.id, error: (e as Error).message });
      return "lost" as const;
    },
  );
  return { id: job.id, stop, done };
}

async function run(
  d: JobRunnerDeps,
  job: ClaimedJob,
  stopReason: () => "cancelled" | "shutdown" | "lost" | null,
  setCancel: (c: () => void) => void,
  lost: () => void,
): Promise<JobEnd> {
  const { sql } = d;
  const lock = job.locked_by;
  const retryOrFail = async (message: string): Promise<JobEnd> => {
    const delay = retryDelayMs(job.attempts, d.backoff ?? DEFAULT_BACKOFF);
    const state = await failConversion(sql, job.id, lock, message, delay, d.now());
    d.log.warn("conversion attempt failed", { job: job.id, attempt: job.attempts, state, error: message });
    return state === null ? "lost" : state === "pending" ? "retry" : "failed";
  };

  let fp;
  try {
    fp = await fingerprintOf(job.recording_path);
  } catch (e) {
    return await retryOrFail(`cannot read the recording on node ${d.nodeId}: ${(e as Error).message}`);
  }
  const start = { progress: 0, etaSeconds: null, sourceSize: fp.size, sourceMtime: fp.mtime };
  if (!await reportConversionProgress(sql, job.id, lock, start, d.now())) return "cancelled";
  await ensureCacheDir(d.mp4Dir);
  const final = outputPathFor(d.mp4Dir, job.recording_id, job.id);
  const part = `${final}.part`;

  let latest: WorkerProgress | null = null;
  const conv = (d.convert ?? convertInWorker)(
    {
      input: job.recording_path,
      output: part,
      ffmpeg: d.ffmpeg,
      preset: d.preset ?? CONVERSION_PRESET,
      pixelFormat: "i420", // converted incrementally in the worker: ffmpeg only encodes
      dataDir: d.dataDir,
    },
    (p) => (latest = p),
  );
  setCancel(conv.cancel);
  if (stopReason()) conv.cancel();

  // progress and heartbeat: one write in flight at a time, skipped while nothing changed
  let written: number | null = null, lastWrite = Date.now(), writing: Promise<void> = Promise.resolve();
  const tick = () => {
    const p: WorkerProgress | null = latest;
    const heartbeatDue = Date.now() - lastWrite >= d.heartbeatMs;
    if (!heartbeatDue && (p === null || p.percent === written)) return;
    const percent = p?.percent ?? 0;
    lastWrite = Date.now();
    written = percent;
    writing = writing.then(async () => {
      const eta = p?.etaMs == null ? null : p.etaMs / 1000;
      const ours = await reportConversionProgress(
        sql,
        job.id,
        lock,
        { progress: percent, etaSeconds: eta },
        d.now(),
      );
      if (!ours) lost();
      else if (p) d.onProgress?.(p);
    }).catch((e) =>
      d.log.warn("cannot report conversion progress", { job: job.id, error: (e as Error).message })
    );
  };
  const timer = setInterval(tick, d.reportMs);
  let result;
  try {
    result = await conv.done;
  } catch (e) {
    const err = e instanceof ConversionFailed ? e : new ConversionFailed("internal", String(e));
    await Deno.remove(part).catch(() => {});
    const why = stopReason();
    if (why === "shutdown") return (await releaseConversion(sql, job.id, lock)) ? "released" : "lost";
    if (why !== null) return "cancelled"; // the canceller already wrote the state
    const message = `${LABEL[err.code] ?? err.code}: ${err.message}`;
    if (failureAction(err.code) === "quarantine") {
      d.log.warn("recording quarantined", { job: job.id, recording: job.recording_id, error: message });
      return (await quarantineConversion(sql, job.id, lock, message, d.now())) ? "quarantined" : "lost";
    }
    return await retryOrFail(message);
  } finally {
    clearInterval(timer);
    await writing;
  }

  await Deno.chmod(part, 0o640);
  await Deno.rename(part, final);
  const size = (await Deno.stat(final)).size;
  const out = {
    outputPath: final,
    outputSize: size,
    width: result.width,
    height: result.height,
    frames: result.frames,
    durationMs: result.durationMs,
  };
  if (!await finishConversion(sql, job.id, lock, out, d.now())) {
    await Deno.remove(final).catch(() => {});
    return "cancelled";
  }
  d.onProgress?.({ percent: 100, etaMs: 0, frames: result.frames, bytesRead: fp.size });
  try {
    const c = await enforceCacheCap(sql, d.mp4Dir, d.cacheMaxBytes, new Set([final]), Date.now());
    if (c.evicted.length || c.orphans.length) d.log.info("MP4 cache trimmed", { ...c });
  } catch (e) {
    d.log.warn("cannot trim the MP4 cache", { error: (e as Error).message });
  }
  return "done";
}
