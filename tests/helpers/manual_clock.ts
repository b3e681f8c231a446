// A clock that moves only when the test says so: timers due by the new time fire in order on set().
import type { Clock } from "../../core/clock.ts";

export class ManualClock implements Clock {
  #now: number;
  #timers: { at: number; fn: () => void; seq: number }[] = [];
  #seq = 0;

  constructor(startMs = Date.now()) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(atMs: number, fn: () => void): () => void {
    const t = { at: atMs, fn, seq: this.#seq++ };
    this.#timers.push(t);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== t);
    };
  }

  /** Moves time forward to `ms` and runs every timer due by then. */
  set(ms: number): void {
    if (ms < this.#now) throw new RangeError("the manual clock only moves forward");
    this.#now = ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return;
      this.#timers = this.#timers.filter((x) => x !== due);
      due.fn();
    }
  }
}
