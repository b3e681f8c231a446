// The conversion pool `jumphost serve` runs: claims jobs from the queue in PostgreSQL (once across all
// nodes), runs at most config.conversionWorkers at a time (one Worker each, see job_runner.ts), wakes
// on conversion_changed, stops a job promptly when it is cancelled, recovers jobs of pools that died,
// and gives its running jobs back to the queue when it stops.
import type { DbTarget, Sql } from "../../db/client.ts";
import { listenConversionChanged, type Unlisten } from "../../db/conversions.ts";
import {
  type ClaimedJob,
  claimNextConversion,
  heartbeatPool,
  recoverStaleConversions,
  removePool,
} from "../../db/conversions_work.ts";
import { DEFAULT_CACHE_MAX_BYTES, mp4CacheDir } from "./cache.ts";
import { type JobRunnerDeps, type LogLike, runJob, type RunningJob } from "./job_runner.ts";
import { type Backoff, DEFAULT_BACKOFF, retryDelayMs } from "./outcome.ts";

export interface ConversionServiceDeps {
  config: {
    nodeId: string;
    dataDir: string;
    conversionWorkers: number;
    /** x264 preset (default CONVERSION_PRESET) */
    conversionPreset?: string;
    /** MP4 cache cap in MiB (default DEFAULT_CACHE_MAX_BYTES) */
    mp4CacheMaxMib?: number;
  };
  sql: Sql;
  /** not needed: the pool talks to the database from the main isolate; Workers only convert */
  dbTarget?: DbTarget;
  log: LogLike;
}

export interface ConversionServiceOptions {
  /** default dataDir/mp4 */
  mp4Dir?: string;
  cacheMaxBytes?: number;
  now?: () => Date;
  /** how often to look for jobs whose retry time has come (ms, default 5000) */
  pollMs?: number;
  /** a running job without a heartbeat for this long is taken back (ms, default 60000) */
  staleMs?: number;
  /** job and pool heartbeat interval (ms, default 10000) */
  heartbeatMs?: number;
  /** progress written at most this often (ms, default 1000) */
  reportMs?: number;
  backoff?: Backoff;
  ffmpeg?: string;
  preset?: string;
  convert?: JobRunnerDeps["convert"];
}

export interface ConversionService {
  name: "conversions";
  /** the pool's id in conversion_pools */
  poolId: string;
  /** ids of the jobs running here now */
  running(): number[];
  stop(): Promise<void>;
}

export async function startConversionService(
  deps: ConversionServiceDeps,
  opts: ConversionServiceOptions = {},
): Promise<ConversionService> {
  const { sql, log, config } = deps;
  const slots = Math.max(1, config.conversionWorkers);
  const now = opts.now ?? (() => new Date());
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const staleMs = opts.staleMs ?? 60_000;
  const poolId = `${config.nodeId}:${crypto.randomUUID().slice(0, 8)}`;
  const runner: JobRunnerDeps = {
    sql,
    nodeId: config.nodeId,
    mp4Dir: opts.mp4Dir ?? mp4CacheDir(config.dataDir),
    dataDir: config.dataDir,
    cacheMaxBytes: opts.cacheMaxBytes ??
      (config.mp4CacheMaxMib ? config.mp4CacheMaxMib * 2 ** 20 : DEFAULT_CACHE_MAX_BYTES),
    log,
    now,
    reportMs: opts.reportMs ?? 1000,
    heartbeatMs,
    backoff: opts.backoff,
    ffmpeg: opts.ffmpeg,
    preset: opts.preset ?? config.conversionPreset,
    convert: opts.convert,
  };
  const jobs = new Map<number, RunningJob>();
  let stopping = false;
  let claims = 0;
  let pumping: Promise<void> | null = null;
  let again = false;

  const start = (job: ClaimedJob) => {
    log.info("conversion started", { job: job.id, session: job.session_id, attempt: job.attempts });
    const r = runJob(runner, job);
    jobs.set(job.id, r);
    r.done.then((end) => {
      jobs.delete(job.id);
      log.info("conversion ended", { job: job.id, outcome: end });
      pump();
    });
  };

  /** Claims jobs while slots are free; coalesces concurrent wake-ups into one more round. */
  const pump = () => {
    if (stopping) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = (async () => {
      do {
        again = false;
        while (!stopping && jobs.size < slots) {
          const job = await claimNextConversion(sql, {
            node: config.nodeId,
            lock: `${poolId}:${++claims}`,
            now: now(),
          });
          if (!job) break;
          start(job);
        }
      } while (again && !stopping);
    })().catch((e) => log.warn("cannot claim conversion jobs", { error: (e as Error).message }))
      .finally(() => (pumping = null));
  };

  const housekeeping = async () => {
    try {
      await heartbeatPool(sql, { poolId, nodeId: config.nodeId, slots }, now());
      const recovered = await recoverStaleConversions(
        sql,
        now(),
        staleMs,
        retryDelayMs(1, opts.backoff ?? DEFAULT_BACKOFF),
      );
      for (const r of recovered) log.warn("took back a conversion whose pool stopped reporting", { ...r });
      if (recovered.length) pump();
    } catch (e) {
      log.warn("conversion housekeeping failed", { error: (e as Error).message });
    }
  };

  const listener: Unlisten = await listenConversionChanged(sql, (c) => {
    if (c.state === "cancelled") jobs.get(c.id)?.stop("cancelled");
    else if (c.state === "pending") pump();
  }, pump);
  await housekeeping();
  const timers = [setInterval(pump, opts.pollMs ?? 5000), setInterval(housekeeping, heartbeatMs)];
  pump();
  log.info("conversion pool ready", { pool: poolId, slots, mp4_dir: runner.mp4Dir });

  return {
    name: "conversions",
    poolId,
    running: () => [...jobs.keys()],
    async stop() {
      if (stopping) return;
      stopping = true;
      timers.forEach(clearInterval);
      await listener.unlisten().catch(() => {});
      await pumping;
      for (const j of jobs.values()) j.stop("shutdown");
      await Promise.all([...jobs.values()].map((j) => j.done));
      await removePool(sql, poolId).catch(() => {});
    },
  };
}
