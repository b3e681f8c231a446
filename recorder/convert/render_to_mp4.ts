// Convert an RDP recording into an MP4: stream the file through the renderer and pipe changed
// frames, with their real timestamps, into ffmpeg (see mkv_writer.ts and ffmpeg_args.ts).
//
// Memory is bounded: the reader streams, the renderer holds one desktop (and its last frame), and the
// feed keeps a few picture buffers (video_feed.ts). ffmpeg's stdin is written from its own thread
// (ffmpeg_pipe.ts), so rendering and encoding run at once; when every buffer waits for ffmpeg, the
// renderer waits too, so backpressure still paces the whole pipeline.

import type { RecordingKeys } from "../../core/recording_identity.ts";
import {
  decodeScreenResize,
  openRecording,
  RecordingFormatError,
  type RecordingReader,
  type RecordingRecord,
  RecordType,
} from "../rdp_file.ts";
import {
  createRenderer,
  demandActiveDesktop,
  PDUTYPE_DEMANDACTIVE,
  RenderError,
  sharePdus,
} from "../rdp_render/mod.ts";
import { applyRecord } from "../rdp_replay/apply.ts";
import { buildFfmpegArgs, type FfmpegArgsOptions } from "./ffmpeg_args.ts";
import { FfmpegPipe } from "./ffmpeg_pipe.ts";
import { FrameScheduler } from "./frame_scheduler.ts";
import { VideoFeed } from "./video_feed.ts";

/** Bytes per read of the recording: 1 MiB takes half the CPU of the reader's default 64 KiB per pass. */
const READ_CHUNK = 1 << 20;

export type ConvertErrorCode = "recording" | "render" | "ffmpeg" | "aborted";

export class ConvertError extends Error {
  override name = "ConvertError";
  constructor(readonly code: ConvertErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface ConvertProgress {
  /** 0–100, by bytes of the recording consumed. */
  percent: number;
  bytesRead: number;
  fileSize: number;
  elapsedMs: number;
  /** Estimated time left, null until there is something to extrapolate from. */
  etaMs: number | null;
  frames: number;
}

export interface ConvertOptions
  extends Pick<FfmpegArgsOptions, "crf" | "preset" | "threads" | "keyframeSeconds" | "lossless"> {
  input: string;
  output: string;
  /** ffmpeg executable (default "ffmpeg" from PATH). */
  ffmpeg?: string;
  /** Most frames per second in the video (default 10). */
  fps?: number;
  onProgress?: (p: ConvertProgress) => void;
  /** Minimum milliseconds between progress callbacks (default 250). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
  /** Clock for progress/ETA (default performance.now). */
  now?: () => number;
  /**
   * What goes down the pipe: "rgba" (default; ffmpeg converts each frame) or "i420" (converted here,
   * only where the screen changed: far less CPU and pipe traffic). Lossless always uses RGBA.
   */
  pixelFormat?: "rgba" | "i420";
  /** opens an encrypted recording (`.age`) */
  keys?: RecordingKeys;
}

export interface ConvertResult {
  width: number;
  height: number;
  frames: number;
  /** Length of the recording in ms (END record, or the last record of a cut-short file). */
  durationMs: number;
  /** The recording ended with an END record. */
  complete: boolean;
  truncated: boolean;
}

/** Largest desktop over the whole recording (the video has one size; smaller phases are padded). */
export async function scanCanvasSize(
  path: string,
  keys?: RecordingKeys,
): Promise<{ width: number; height: number }> {
  const reader = await openRecording(path, { chunkSize: READ_CHUNK, keys });
  let { width, height } = reader.header;
  try {
    for await (const rec of reader) {
      if (rec.type === RecordType.SCREEN_RESIZE) {
        const s = decodeScreenResize(rec.payload);
        [width, height] = [Math.max(width, s.width), Math.max(height, s.height)];
      } else if (rec.type === RecordType.SERVER_SLOWPATH) {
        try {
          for (const pdu of sharePdus(rec.payload)) {
            if (pdu.type !== PDUTYPE_DEMANDACTIVE) continue;
            const s = demandActiveDesktop(pdu.body);
            [width, height] = [Math.max(width, s.width), Math.max(height, s.height)];
          }
        } catch (e) {
          if (!(e instanceof RenderError)) throw e; // the rendering pass reports it with context
        }
      }
    }
  } finally {
    reader.close();
  }
  return { width, height };
}

export async function renderRecordingToMp4(opts: ConvertOptions): Promise<ConvertResult> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const fps = opts.fps ?? 10;
  if (!(fps > 0 && fps <= 60)) throw new RangeError(`fps ${fps}`);
  opts.signal?.throwIfAborted();

  let canvas: { width: number; height: number };
  try {
    canvas = await scanCanvasSize(opts.input, opts.keys);
  } catch (e) {
    throw wrapRecordingError(e);
  }
  const W = canvas.width + (canvas.width % 2), H = canvas.height + (canvas.height % 2);
  const { crf, preset, threads, keyframeSeconds, lossless } = opts;
  const args = buildFfmpegArgs({
    width: W,
    height: H,
    output: opts.output,
    crf,
    preset,
    threads,
    keyframeSeconds,
    lossless,
  });
  const command = opts.ffmpeg ?? "ffmpeg";
  let ffmpeg: FfmpegPipe;
  try {
    ffmpeg = await FfmpegPipe.start(command, args);
  } catch (e) {
    throw new ConvertError("ffmpeg", (e as Error).message, { cause: e });
  }
  const kill = () => ffmpeg.kill();
  opts.signal?.addEventListener("abort", kill, { once: true });

  let pipeClosed = false;
  const feed = new VideoFeed(W, H, async (head, body) => {
    try {
      return await ffmpeg.write(head, body);
    } catch (e) {
      pipeClosed = true;
      throw e;
    }
  }, lossless ? "rgba" : opts.pixelFormat ?? "rgba");

  const fileSize = (await Deno.stat(opts.input)).size;
  let lastReport = -Infinity;
  const report = (bytesRead: number, force = false) => {
    const t = now();
    if (!opts.onProgress || (!force && t - lastReport < (opts.progressIntervalMs ?? 250))) return;
    lastReport = t;
    const fraction = fileSize > 0 ? Math.min(1, bytesRead / fileSize) : 1;
    const elapsedMs = t - started;
    const etaMs = fraction > 0.01 && fraction < 1
      ? (elapsedMs * (1 - fraction)) / fraction
      : fraction >= 1
      ? 0
      : null;
    opts.onProgress({
      percent: Math.round(fraction * 1000) / 10,
      bytesRead,
      fileSize,
      elapsedMs,
      etaMs,
      frames: feed.frames,
    });
  };

  let result: ConvertResult;
  try {
    await feed.start();
    let reader: RecordingReader;
    try {
      reader = await openRecording(opts.input, { chunkSize: READ_CHUNK, keys: opts.keys });
    } catch (e) {
      throw wrapRecordingError(e);
    }
    const renderer = createRenderer({ width: reader.header.width, height: reader.header.height });
    const scheduler = new FrameScheduler(1000 / fps);
    let lastTime = 0;
    try {
      for await (const rec of recordsOf(reader)) {
        opts.signal?.throwIfAborted();
        const due = scheduler.before(rec.offsetMillis);
        if (due !== null) await feed.push(due, renderer.frame());
        try {
          applyRecord(renderer, rec.type, rec.payload);
        } catch (e) {
          if (!(e instanceof RenderError)) throw e;
          throw new ConvertError(
            "render",
            `record at ${rec.offsetMillis} ms (byte ${rec.fileOffset}): ${e.message}`,
            {
              cause: e,
            },
          );
        }
        if (renderer.dirty) scheduler.changed(rec.offsetMillis);
        lastTime = rec.offsetMillis;
        report(reader.position);
      }
      const due = scheduler.flush();
      if (due !== null) await feed.push(due, renderer.frame());
      const end = Math.max(lastTime, feed.lastPts ?? 0);
      await feed.finish(end, renderer.frame());
      result = {
        width: W,
        height: H,
        frames: feed.frames,
        durationMs: end,
        complete: reader.complete,
        truncated: reader.truncated,
      };
    } finally {
      reader.close();
    }
    const exit = await ffmpeg.close();
    if (!exit.success) throw new ConvertError("ffmpeg", `ffmpeg exited with ${exit.code}: ${exit.stderr}`);
    report(fileSize, true);
    return result;
  } catch (e) {
    kill();
    const exit = await ffmpeg.exited;
    await Deno.remove(opts.output).catch(() => {});
    if (opts.signal?.aborted) throw new ConvertError("aborted", "conversion aborted", { cause: e });
    if (pipeClosed) {
      throw new ConvertError("ffmpeg", `ffmpeg quit early (exit ${exit.code}): ${exit.stderr}`, {
        cause: e,
      });
    }
    throw e;
  } finally {
    opts.signal?.removeEventListener("abort", kill);
  }
}

/** Iterate records, turning format errors into ConvertError("recording"). */
async function* recordsOf(reader: AsyncIterable<RecordingRecord>): AsyncGenerator<RecordingRecord> {
  try {
    yield* reader;
  } catch (e) {
    throw wrapRecordingError(e);
  }
}

function wrapRecordingError(e: unknown): unknown {
  return e instanceof RecordingFormatError ? new ConvertError("recording", e.message, { cause: e }) : e;
}
