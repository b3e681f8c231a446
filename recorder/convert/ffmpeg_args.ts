// ffmpeg command line for turning rendered RDP frames into an MP4 (pure; see render_to_mp4.ts).
//
// Input: a Matroska stream on stdin holding raw RGBA frames, one per screen change, each with its
// real timestamp (mkv_writer.ts). Output: H.264 in MP4, yuv420p, variable frame rate (-fps_mode vfr
// keeps the input timestamps, so idle time costs nothing yet the clock stays true), faststart for
// playback while downloading, a keyframe at least every `keyframeSeconds` so seeking stays cheap.
// yuv420p needs even dimensions: odd sizes are padded with black on the right/bottom.
import { X264_PRESETS } from "../../core/conversion.ts";

export interface FfmpegArgsOptions {
  /** Frame size of the input stream. */
  width: number;
  height: number;
  output: string;
  /** Default "pipe:0" (stdin). */
  input?: string;
  /** x264 constant rate factor (default 23; lower = better quality). */
  crf?: number;
  /** x264 preset (default "veryfast"). */
  preset?: string;
  /** Seconds between forced keyframes (default 10). */
  keyframeSeconds?: number;
  /** Encoder threads (default: ffmpeg decides). */
  threads?: number;
  /**
   * Exact pixels instead of a small file: lossless RGB H.264 (libx264rgb, qp 0). For verification and
   * evidence copies; browsers do not play it.
   */
  lossless?: boolean;
}

export function buildFfmpegArgs(o: FfmpegArgsOptions): string[] {
  const crf = o.crf ?? 23, preset = o.preset ?? "veryfast", key = o.keyframeSeconds ?? 10;
  for (const [name, v] of [["width", o.width], ["height", o.height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 16384) throw new RangeError(`ffmpeg ${name} ${v}`);
  }
  if (!Number.isInteger(crf) || crf < 0 || crf > 51) throw new RangeError(`crf ${crf}`);
  if (!X264_PRESETS.includes(preset)) throw new RangeError(`x264 preset ${preset}`);
  if (!(key > 0)) throw new RangeError(`keyframeSeconds ${key}`);
  if (o.output === "" || o.output.startsWith("-")) throw new RangeError(`output path ${o.output}`);

  const args = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"];
  args.push("-f", "matroska", "-i", o.input ?? "pipe:0");
  const evenW = o.width + (o.width % 2), evenH = o.height + (o.height % 2);
  if (evenW !== o.width || evenH !== o.height) args.push("-vf", `pad=${evenW}:${evenH}:0:0:black`);
  if (o.lossless) args.push("-c:v", "libx264rgb", "-preset", preset, "-qp", "0", "-pix_fmt", "rgb24");
  else args.push("-c:v", "libx264", "-preset", preset, "-crf", String(crf), "-pix_fmt", "yuv420p");
  if (o.threads !== undefined) args.push("-threads", String(o.threads));
  args.push("-fps_mode", "vfr", "-force_key_frames", `expr:gte(t,n_forced*${key})`);
  args.push("-video_track_timescale", "1000", "-movflags", "+faststart", "-f", "mp4", "-y", o.output);
  return args;
}
