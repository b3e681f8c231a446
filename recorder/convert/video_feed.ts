// Frames → Matroska bytes for ffmpeg's stdin. Each frame is held until the next one arrives, so
// its duration is known when it is written; finish() repeats the last picture at the end time.

import type { Frame } from "../rdp_render/mod.ts";
import { MkvRawVideoWriter } from "./mkv_writer.ts";

export class VideoFeed {
  readonly #mkv: MkvRawVideoWriter;
  #spare: Uint8Array;
  #held: { pts: number; buf: Uint8Array } | null = null;
  frames = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly write: (b: Uint8Array) => Promise<void>,
  ) {
    this.#mkv = new MkvRawVideoWriter(width, height);
    this.#spare = new Uint8Array(width * height * 4);
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
    this.#spare = this.#held?.buf ?? new Uint8Array(this.width * this.height * 4);
    toCanvas(frame, buf, this.width, this.height);
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
