// Messages between FfmpegPipe (ffmpeg_pipe.ts) and its writer thread (ffmpeg_pipe_worker.ts).

export type ToPipeWorker =
  | { type: "spawn"; command: string; args: string[] }
  /** `body` is a view of a SharedArrayBuffer (shared, not copied) */
  | { type: "write"; id: number; head: Uint8Array; body: Uint8Array | null }
  | { type: "close" }
  | { type: "kill" };

export type FromPipeWorker =
  | { type: "spawned"; error: string | null }
  | { type: "written"; id: number; error: string | null }
  | { type: "exit"; success: boolean; code: number; stderr: string };
