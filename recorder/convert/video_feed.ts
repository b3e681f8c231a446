// Frames → Matroska bytes for ffmpeg's stdin. Each frame is held until the next one arrives, so
// its duration is known when it is written; finish() repeats the last picture at the end time.

import type { Frame } from "../rdp_render/mod.ts";
import { MkvRawVideoWriter } from "./mkv_writer.ts";
import { I420Converter } from "./i420.ts";

export class VideoFeed {
  readonly #mkv: MkvRawVideoWriter;
  #spare: Uint8Array;
  #held: { pts: number; buf: Uint8Array } | null = null;
  frames = 0;

  /**
   * With "i420" frames are written as YUV 4:2:0, converted (block by block, as they change) when
   * pushed, so what is held is the small I420 copy.
   */
  readonly #i420: I420Converter | null;
  #scratch: Uint8Array | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly write: (b: Uint8Array) => Promise<void>,
    format: "rgba" | "i420" = "rgba",
  ) {
    this.#mkv = new MkvRawVideoWriter(width, height, format);
    this.#i420 = format === "i420" ? new I420Converter(width, height) : null;
    this.#spare = new Uint8Array(this.#frameBytes);
  }

  get #frameBytes(): number {
    return this.#i420 ? this.width * this.height * 3 / 2 : this.width * this.height * 4;
  }

  get lastPts(): number | null {
    return this.#held?.pts ?? null;
  }

  start(): Promise<void> {
    return this.write(this.#mkv.header());
  }

  /** Queue the picture shown from `pts` on (ms, increasing); writes the previous one. */
  async push(pts: number, frame: Frame): Promise<void> {
    await this.#flush(pts);
    const buf = this.#spare;
    this.#spare = this.#held?.buf ?? new Uint8Array(this.#frameBytes);
    if (this.#i420) {
      let rgba = frame.rgba;
      if (frame.width !== this.width || frame.height !== this.height) { // a smaller desktop phase
        rgba = this.#scratch ??= new Uint8Array(this.width * this.height * 4);
        toCanvas(frame, rgba, this.width, this.height);
      }
      this.#i420.update(rgba);
      buf.set(this.#i420.data);
    } else toCanvas(frame, buf, this.width, this.height);
    this.#held = { pts, buf };
  }

  /**
   * End the video at `endMs`: the last picture is repeated there (ffmpeg 5 ignores frame
   * durations, so only a frame at the end time makes the video as long as the session).
   */
  async finish(endMs: number, frame: Frame): Promise<void> {
    if (this.#held && endMs > this.#held.pts) await this.push(endMs, frame);
    await this.#flush((this.#held?.pts ?? 0) + 1);
    this.#held = null;
  }

  async #flush(until: number): Promise<void> {
    const held = this.#held;
    if (!held) return;
    await this.write(this.#mkv.frameHeader(held.pts, Math.max(1, until - held.pts)));
    await this.write(held.buf);
    this.frames++;
  }
}

/** Place a frame top-left on a W×H canvas, opaque black elsewhere. */
export function toCanvas(f: Frame, canvas: Uint8Array, W: number, H: number): void {
  if (f.width === W && f.height === H) return canvas.set(f.rgba);
  canvas.fill(0);
  for (let i = 3; i < canvas.length; i += 4) canvas[i] = 255;
  const w = Math.min(f.width, W) * 4;
  for (let y = 0; y < Math.min(f.height, H); y++) {
    canvas.set(f.rgba.subarray(y * f.width * 4, y * f.width * 4 + w), y * W * 4);
  }
}
