// Builds the seek index of each RDP recording as soon as it is closed, so the console's player opens it at
// once instead of building it on the first view (index_store.ts still builds on demand what is missing:
// recordings from before, or from another node). One recording at a time, each in a worker of its own (the
// renderer replays the whole recording: seconds of CPU for a long busy session, which must not run on the
// thread relaying live sessions); a bounded queue, dropped entries are built on demand later.
import type { IndexJob, IndexReply } from "./index_worker.ts";

const MAX_QUEUE = 200;

export interface IndexPrebuilder {
  /** queue a closed recording */
  add(path: string, recordingId: number): void;
  /** the build running now ends its worker; the queue is dropped */
  stop(): Promise<void>;
}

export function createIndexPrebuilder(
  dataDir: string,
  log: (msg: string, fields: Record<string, unknown>) => void,
): IndexPrebuilder {
  const queue: IndexJob[] = [];
  let running: { worker: Worker; done: Promise<void> } | null = null;
  let stopped = false;
  const next = () => {
    if (stopped || running || queue.length === 0) return;
    const job = queue.shift()!;
    const worker = new Worker(new URL("./index_worker.ts", import.meta.url), { type: "module" });
    const done = new Promise<void>((resolve) => {
      const finish = () => {
        worker.terminate();
        running = null;
        resolve();
        queueMicrotask(next);
      };
      worker.onmessage = (e: MessageEvent<IndexReply>) => {
        if (!e.data.ok) {
          log("cannot index the RDP recording", { recording: job.recordingId, error: e.data.error });
        }
        finish();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        log("cannot index the RDP recording", { recording: job.recordingId, error: e.message });
        finish();
      };
    });
    running = { worker, done };
    worker.postMessage(job);
  };
  return {
    add(path, recordingId) {
      if (stopped) return;
      if (queue.length >= MAX_QUEUE) return; // built on demand when someone opens it
      queue.push({ path, recordingId, dataDir });
      next();
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      const r = running;
      if (r) {
        r.worker.terminate();
        running = null;
      }
      await Promise.resolve();
    },
  };
}
