// What a failed conversion means for its job (pure): the recording is bad (quarantine, retrying cannot
// help), the attempt failed for a reason that may pass (retry after a backoff), or it was stopped.
import type { ConvertErrorCode } from "./render_to_mp4.ts";

export type FailureAction = "quarantine" | "retry" | "stopped";

export function failureAction(code: ConvertErrorCode | "internal" | "worker"): FailureAction {
  switch (code) {
    case "recording": // RecordingFormatError: corrupt bytes or a version we cannot read
    case "render": // RenderError: an update the renderer does not (or cannot) draw
      return "quarantine";
    case "aborted":
      return "stopped";
    case "ffmpeg": // missing binary, full disk, killed by the OOM killer…
    case "internal":
    case "worker":
      return "retry";
    default: {
      const never: never = code;
      throw new Error(`unknown conversion error code ${never}`);
    }
  }
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 3600_000 };

/** Delay before the next attempt after `attempts` failed ones: base · 2^(attempts−1), capped. */
export function retryDelayMs(attempts: number, b: Backoff = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempts));
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(n - 1, 30));
}
