// When to sample the rendered screen into the video (pure).
//
// Frames sit on a grid of `tickMs` (100 ms at 10 fps): a change at time t is shown by the frame at
// the next grid point ≥ t, which includes every record up to that point, so bursts of updates
// coalesce into one frame and idle time produces none. The first frame is at 0 (session start).

export class FrameScheduler {
  #due: number | null = 0;

  constructor(readonly tickMs: number) {
    if (!(tickMs >= 1)) throw new RangeError(`tick ${tickMs} ms`);
  }

  /** Call before applying a record at `t`: the time of a frame to emit first, or null. */
  before(t: number): number | null {
    if (this.#due === null || t <= this.#due) return null;
    const due = this.#due;
    this.#due = null;
    return due;
  }

  /** Call after a record at `t` changed the picture. */
  changed(t: number): void {
    if (this.#due === null) this.#due = Math.round(Math.ceil(t / this.tickMs) * this.tickMs);
  }

  /** At the end of the recording: the time of a last pending frame, or null. */
  flush(): number | null {
    const due = this.#due;
    this.#due = null;
    return due;
  }
}
