// ffmpeg as a child process whose stdin is written from a Worker thread (ffmpeg_pipe_worker.ts).
//
// Why a thread: Deno moves bytes into a pipe only while the writing isolate's event loop turns, a
// pipe holds 64 KiB, and a frame is 3 MiB or more. Written from the converter's own thread, a frame
// crawls into ffmpeg between renders (or the converter waits for it), so the two processes take turns
// instead of running at once. The worker's loop does nothing else; frame buffers are SharedArrayBuffers,
// so handing one over copies nothing (transferring an ArrayBuffer copies it: 0.6 ms per 3 MiB).

import type { FromPipeWorker, ToPipeWorker } from "./ffmpeg_pipe_messages.ts";

export interface FfmpegExit {
  success: boolean;
  code: number;
  /** The end of what ffmpeg wrote to stderr. */
  stderr: string;
}

export class FfmpegPipe {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  #nextId = 0;
  #terminated = false;
  /** Resolves when ffmpeg has exited, however that came about. */
  readonly exited: Promise<FfmpegExit>;

  private constructor(worker: Worker, exited: Promise<FfmpegExit>) {
    this.#worker = worker;
    this.exited = exited;
  }

  /** Starts ffmpeg; rejects with the reason when it cannot be started. */
  static start(command: string, args: string[]): Promise<FfmpegPipe> {
    const worker = new Worker(new URL("./ffmpeg_pipe_worker.ts", import.meta.url), { type: "module" });
    let onExit!: (e: FfmpegExit) => void;
    const exited = new Promise<FfmpegExit>((r) => (onExit = r));
    const pipe = new FfmpegPipe(worker, exited);
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromPipeWorker>) => {
        const m = e.data;
        switch (m.type) {
          case "spawned":
            if (m.error === null) return resolve(pipe);
            pipe.#terminate();
            return reject(new Error(m.error));
          case "written": {
            const p = pipe.#pending.get(m.id);
            pipe.#pending.delete(m.id);
            if (m.error === null) p?.resolve();
            else p?.reject(new Error(m.error));
            return;
          }
          case "exit":
            onExit({ success: m.success, code: m.code, stderr: m.stderr });
            return pipe.#terminate();
          default: {
            const never: never = m;
            throw new Error(`unknown message ${JSON.stringify(never)}`);
          }
        }
      };
      worker.onerror = (e) => {
        e.preventDefault();
        const error = new Error(`ffmpeg pipe worker: ${e.message}`);
        reject(error);
        onExit({ success: false, code: -1, stderr: error.message });
        pipe.#terminate();
      };
      pipe.#post({ type: "spawn", command, args });
    });
  }

  /**
   * Queues `head` (copied) then `body` for ffmpeg's stdin; resolves once both are written. `body` lives
   * in a SharedArrayBuffer that the writer thread reads: leave it alone until then.
   */
  write(head: Uint8Array, body?: Uint8Array): Promise<void> {
    if (body && !(body.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("FfmpegPipe.write needs a body in a SharedArrayBuffer");
    }
    if (this.#terminated) return Promise.reject(new Error("ffmpeg has exited"));
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#post({ type: "write", id, head, body: body ?? null });
    return done;
  }

  /** Ends ffmpeg's input after the queued writes; ffmpeg then finishes the file and exits. */
  close(): Promise<FfmpegExit> {
    if (!this.#terminated) this.#post({ type: "close" });
    return this.exited;
  }

  kill(): void {
    if (!this.#terminated) this.#post({ type: "kill" });
  }

  #post(m: ToPipeWorker): void {
    this.#worker.postMessage(m);
  }

  #terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("ffmpeg has exited"));
    this.#pending.clear();
  }
}
