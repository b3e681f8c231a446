// Worker entry: runs one recording → MP4 conversion off the main isolate (rendering is CPU-bound
// TypeScript), reporting progress and honouring cancel. Messages in worker_messages.ts.
/// <reference lib="deno.worker" />
import { recordingKeys } from "../../core/recording_identity.ts";
import { ConvertError, renderRecordingToMp4 } from "./render_to_mp4.ts";
import type { FromWorker, ToWorker } from "./worker_messages.ts";

const abort = new AbortController();
let started = false;
const post = (m: FromWorker) => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "cancel":
      abort.abort();
      return;
    case "convert": {
      if (started) return; // one job per worker
      started = true;
      const { dataDir, ...r } = msg.request;
      renderRecordingToMp4({
        ...r,
        keys: dataDir ? recordingKeys(dataDir) : undefined,
        signal: abort.signal,
        progressIntervalMs: 250,
        onProgress: (p) =>
          post({
            type: "progress",
            percent: p.percent,
            etaMs: p.etaMs,
            frames: p.frames,
            bytesRead: p.bytesRead,
          }),
      }).then(
        (result) => post({ type: "done", result }),
        (err) => {
          if (err instanceof ConvertError) post({ type: "failed", code: err.code, message: err.message });
          else if (abort.signal.aborted) {
            post({ type: "failed", code: "aborted", message: "conversion aborted" });
          } else post({ type: "failed", code: "internal", message: (err as Error)?.message ?? String(err) });
        },
      );
      return;
    }
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
};
