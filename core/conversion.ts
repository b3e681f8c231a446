// Conversion defaults and the x264 presets, shared by the pool and the configuration (which validates
// `conversion_preset` against them and must not load the pool to know them).

/**
 * The pool's x264 preset (config `conversion_preset`). bench/convert (busy 10-minute 1080p session, two
 * CPUs): ultrafast converts at 28× real time on a quiet machine (≈ 31 CPU-seconds: 11 converter, 20 ffmpeg),
 * veryfast at 20× (50 CPU-seconds, 39 of them ffmpeg's) with an MP4 2.4× smaller. Speed is what auditors
 * wait for; the cache has a size cap.
 */
export const CONVERSION_PRESET = "ultrafast";

/** Size cap of the MP4 cache (config `mp4_cache_max_mib`): 20 GiB. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 2 ** 30;

/** x264's presets, fastest first. */
export const X264_PRESETS: readonly string[] = [
  "ultrafast",
  "superfast",
  "veryfast",
  "faster",
  "fast",
  "medium",
  "slow",
  "slower",
  "veryslow",
];
