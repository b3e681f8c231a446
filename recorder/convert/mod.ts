// Recording → MP4 conversion: the pool `serve` runs, requests from the console and CLI, the MP4 cache.
export {
  type ConversionService,
  type ConversionServiceDeps,
  type ConversionServiceOptions,
  startConversionService,
} from "./pool.ts";
export { type ConversionRequestStatus, currentOutput, requestConversion } from "./request.ts";
export {
  DEFAULT_CACHE_MAX_BYTES,
  fileSize,
  type Fingerprint,
  fingerprintOf,
  mp4CacheDir,
  sameFingerprint,
} from "./cache.ts";
export { type JobEnd, type JobRunnerDeps, type LogLike, runJob } from "./job_runner.ts";
export { type Backoff, DEFAULT_BACKOFF, failureAction, retryDelayMs } from "./outcome.ts";
export { type WorkerProgress } from "./worker_client.ts";
export { ConvertError, renderRecordingToMp4 } from "./render_to_mp4.ts";
