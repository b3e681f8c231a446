// The seek index of a recording, pure: replays it once and picks keyframes — renderer snapshots taken
// every few seconds while the screen is busy (and at least every few megabytes of updates) — with the
// byte offset to continue reading from. Seeking to t restores the last keyframe at or before t and
// replays at most one interval of records; an idle screen adds no keyframes (nothing to replay).
//
// A keyframe is only taken between whole updates (never between the fragments of one) and between
// records of different times, so "every record up to t is applied"
// holds exactly for it: keyframe.t is the time of the last record before it, and every record from
// keyframe.fileOffset on is later than keyframe.t.

import type { RecordingHeader } from "../rdp_file_format.ts";
import { createRenderer, type Renderer, type RendererSnapshot } from "../rdp_render/mod.ts";
import { applyRecord, drawsOnScreen } from "./apply.ts";
import type { StreamRecord } from "./record_stream.ts";

export interface KeyframeEntry {
  /** The keyframe shows the screen after every record up to this time (ms). */
  t: number;
  /** Where the records after it start in the recording file. */
  fileOffset: number;
}

/** Where and why a recording cannot be played further. */
export interface StopPoint {
  /** "truncated": the file ends inside a record; "damaged": bytes that are not a record; "unrenderable":
   * a record the renderer cannot draw. */
  kind: "truncated" | "damaged" | "unrenderable";
  /** Time of the last record played (ms). */
  atMillis: number;
  /** Byte offset where reading stopped. */
  fileOffset: number;
  message: string;
}

export interface IndexOptions {
  /** Least time between keyframes, while the screen changes (default 5 s). */
  intervalMs?: number;
  /** A keyframe at least every this many bytes of screen updates, however short the time (default 8 MiB). */
  maxBytes?: number;
}

export const DEFAULT_KEYFRAME_INTERVAL_MS = 5000;
export const DEFAULT_KEYFRAME_MAX_BYTES = 8 << 20;

export class IndexBuilder {
  readonly renderer: Renderer;
  readonly keyframes: KeyframeEntry[] = [];
  #last = { t: 0, bytes: 0 };
  /** screen-update bytes since the last keyframe (or the start) */
  #busy = 0;
  #lastTime = 0;
  #interval: number;
  #maxBytes: number;

  constructor(header: RecordingHeader, opts: IndexOptions = {}) {
    this.renderer = createRenderer({ width: header.width, height: header.height });
    this.#interval = opts.intervalMs ?? DEFAULT_KEYFRAME_INTERVAL_MS;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_KEYFRAME_MAX_BYTES;
  }

  /** Time of the last record fed. */
  get lastTime(): number {
    return this.#lastTime;
  }

  /**
   * Feed the next record. When a keyframe is due before it, returns the snapshot (state before this
   * record) and its entry, which is already in `keyframes`. Throws what the renderer throws.
   */
  feed(rec: StreamRecord): { entry: KeyframeEntry; snapshot: RendererSnapshot } | null {
    let out = null;
    if (
      this.#busy > 0 && rec.offsetMillis > this.#lastTime && !this.renderer.midUpdate &&
      (this.#lastTime - this.#last.t >= this.#interval || this.#busy >= this.#maxBytes)
    ) {
      const entry = { t: this.#lastTime, fileOffset: rec.fileOffset };
      this.keyframes.push(entry);
      out = { entry, snapshot: this.renderer.snapshot() };
      this.#last = { t: this.#lastTime, bytes: 0 };
      this.#busy = 0;
    }
    applyRecord(this.renderer, rec.type, rec.payload);
    if (drawsOnScreen(rec.type)) this.#busy += rec.payload.length;
    this.#lastTime = rec.offsetMillis;
    return out;
  }
}

/** The keyframe to start from when seeking to `t`: the last one at or before it (null: the start). */
export function keyframeFor(keyframes: readonly KeyframeEntry[], t: number): number | null {
  let lo = 0, hi = keyframes.length - 1, found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keyframes[mid].t <= t) [found, lo] = [mid, mid + 1];
    else hi = mid - 1;
  }
  return found;
}
