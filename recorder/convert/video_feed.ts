// Frames → Matroska bytes for ffmpeg's stdin. Each frame is held until the next one arrives, so
// its duration is known when it is written; finish() repeats the last picture at the end time.
//
// Frames go out without waiting for ffmpeg to take them: a few picture buffers ("slots") take turns
// being filled here and being written, so rendering and encoding overlap while memory stays bounded.
// With "i420" each slot is brought up to date by copying only the cells that changed since it last
// carried a frame.

import { Damage, type Frame } from "../rdp_render/mod.ts";
import { MkvRawVideoWriter } from "./mkv_writer.ts";
import { I420Converter } from "./i420.ts";

/**
 * Where the bytes go: `head` then `body` (a picture in a SharedArrayBuffer, left alone until written, so
 * another thread can write it out without a copy); resolves once written.
 */
export type FrameSink = (head: Uint8Array, body?: Uint8Array) => Promise<void>;

/** Picture buffers: one held for its duration, the others in flight. */
const SLOTS = 3;

interface Slot {
  /** null while being written */
  buf: Uint8Array | null;
  /** i420: cells that changed since this buffer was last filled (all, when `stale` is null) */
  stale: Damage | null;
}

export class VideoFeed {
  readonly #mkv: MkvRawVideoWriter;
  readonly #slots: Slot[] = [];
  /** Write completions in order; they never reject (the first error is kept in #error). */
  readonly #inFlight: Promise<void>[] = [];
  #error: { e: unknown } | null = null;
  #held: { pts: number; slot: Slot } | null = null;
  frames = 0;

  /** With "i420" frames are converted to YUV 4:2:0 (only where they changed) when pushed. */
  readonly #i420: I420Converter | null;
  #scratch: Uint8Array | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly sink: FrameSink,
    format: "rgba" | "i420" = "rgba",
  ) {
    this.#mkv = new MkvRawVideoWriter(width, height, format);
    this.#i420 = format === "i420" ? new I420Converter(width, height) : null;
    const bytes = this.#i420 ? width * height * 3 / 2 : width * height * 4;
    for (let i = 0; i < SLOTS; i++) {
      this.#slots.push({ buf: new Uint8Array(new SharedArrayBuffer(bytes)), stale: null });
    }
  }

  get lastPts(): number | null {
    return this.#held?.pts ?? null;
  }

  async start(): Promise<void> {
    await this.sink(this.#mkv.header());
  }

  /**
   * Queue the picture shown from `pts` on (ms, increasing); sends the previous one. Frames must be every
   * frame() of one renderer, in order: each one's damage is counted from the one before.
   */
  async push(pts: number, frame: Frame): Promise<void> {
    this.#flush(pts);
    const slot = await this.#freeSlot();
    this.#fill(slot, frame);
    this.#held = { pts, slot };
  }

  /**
   * End the video at `endMs`: the last picture is repeated there (ffmpeg 5 ignores frame
   * durations, so only a frame at the end time makes the video as long as the session).
   * Resolves once everything is written.
   */
  async finish(endMs: number, frame: Frame): Promise<void> {
    if (this.#held && endMs > this.#held.pts) await this.push(endMs, frame);
    this.#flush((this.#held?.pts ?? 0) + 1);
    this.#held = null;
    while (this.#inFlight.length) await this.#inFlight.shift();
    this.#throwIfFailed();
  }

  #flush(until: number): void {
    const held = this.#held;
    if (!held) return;
    this.#throwIfFailed();
    const buf = held.slot.buf!;
    held.slot.buf = null;
    const head = this.#mkv.frameHeader(held.pts, Math.max(1, until - held.pts));
    this.#inFlight.push(
      this.sink(head, buf).then(
        () => void (held.slot.buf = buf),
        (e) => void (this.#error ??= { e }),
      ),
    );
    this.#held = null;
    this.frames++;
  }

  async #freeSlot(): Promise<Slot> {
    for (;;) {
      const free = this.#slots.find((s) => s.buf !== null);
      if (free) return free;
      await this.#inFlight.shift();
      this.#throwIfFailed();
    }
  }

  #fill(slot: Slot, frame: Frame): void {
    const buf = slot.buf!;
    const i420 = this.#i420;
    if (!i420) return toCanvas(frame, buf, this.width, this.height);
    let rgba = frame.rgba, damage: Damage | null = frame.damage;
    if (frame.width !== this.width || frame.height !== this.height) { // a smaller desktop phase
      rgba = this.#scratch ??= new Uint8Array(this.width * this.height * 4);
      toCanvas(frame, rgba, this.width, this.height);
      damage = null;
    }
    i420.update(rgba, damage ?? undefined);
    for (const s of this.#slots) {
      if (damage === null) s.stale = null;
      else s.stale?.addFrom(damage);
    }
    i420.copyTo(buf, slot.stale);
    slot.stale ??= new Damage(this.width, this.height);
    slot.stale.clear();
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error.e;
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
