// The pool's side of convert_worker.ts: start one conversion in its own Worker, follow its progress,
// cancel it. The Worker is always terminated once the conversion has ended.
import type { ConvertErrorCode, ConvertResult } from "./render_to_mp4.ts";
import type { ConvertRequest, FromWorker, ToWorker } from "./worker_messages.ts";

export interface WorkerProgress {
  percent: number;
  etaMs: number | null;
  frames: number;
  bytesRead: number;
}

/** Why a conversion in a Worker ended without an MP4. */
export class ConversionFailed extends Error {
  override name = "ConversionFailed";
  constructor(readonly code: ConvertErrorCode | "internal" | "worker", message: string) {
    super(message);
  }
}

export interface WorkerConversion {
  /** Resolves with the result, rejects with ConversionFailed. */
  done: Promise<ConvertResult>;
  /** Stops ffmpeg and the renderer; `done` then rejects with code "aborted". */
  cancel(): void;
}

/** After cancel(), how long the Worker may take to kill ffmpeg before it is terminated outright. */
const CANCEL_GRACE_MS = 3000;

export function convertInWorker(
  request: ConvertRequest,
  onProgress: (p: WorkerProgress) => void,
): WorkerConversion {
  const worker = new Worker(new URL("./convert_worker.ts", import.meta.url), { type: "module" });
  const result = Promise.withResolvers<ConvertResult>();
  let settled = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const end = (f: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(graceTimer);
    worker.terminate();
    f();
  };
  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    switch (m.type) {
      case "progress":
        if (!settled) {
          onProgress({ percent: m.percent, etaMs: m.etaMs, frames: m.frames, bytesRead: m.bytesRead });
        }
        return;
      case "done":
        return end(() => result.resolve(m.result));
      case "failed":
        return end(() => result.reject(new ConversionFailed(m.code, m.message)));
      default: {
        const never: never = m;
        return end(() =>
          result.reject(new ConversionFailed("worker", `unexpected message ${JSON.stringify(never)}`))
        );
      }
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    end(() => result.reject(new ConversionFailed("worker", `conversion worker crashed: ${e.message}`)));
  };
  const send = (m: ToWorker) => worker.postMessage(m);
  send({ type: "convert", request });
  return {
    done: result.promise,
    cancel() {
      // cancelled twice (a user's cancel, then shutdown): one grace timer, or the first one would leak
      if (settled || graceTimer !== undefined) return;
      send({ type: "cancel" });
      graceTimer = setTimeout(
        () =>
          end(() => result.reject(new ConversionFailed("aborted", "conversion aborted (worker terminated)"))),
        CANCEL_GRACE_MS,
      );
    },
  };
}
