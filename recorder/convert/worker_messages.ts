// Typed messages between the conversion pool and convert_worker.ts (one Worker per running job).
import type { ConvertErrorCode, ConvertResult } from "./render_to_mp4.ts";

export interface ConvertRequest {
  input: string;
  output: string;
  ffmpeg?: string;
  fps?: number;
  preset?: string;
  crf?: number;
  threads?: number;
  pixelFormat?: "rgba" | "i420";
  /** the data directory whose recordings identity opens an encrypted recording (`.age`) */
  dataDir?: string;
}

export type ToWorker =
  | { type: "convert"; request: ConvertRequest }
  /** stop now: kills ffmpeg and removes the partial output */
  | { type: "cancel" };

export type FromWorker =
  | { type: "progress"; percent: number; etaMs: number | null; frames: number; bytesRead: number }
  | { type: "done"; result: ConvertResult }
  /** "internal": anything that is not a ConvertError (a bug, an I/O error opening the file…) */
  | { type: "failed"; code: ConvertErrorCode | "internal"; message: string };
