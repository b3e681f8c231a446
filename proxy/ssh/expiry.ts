// When to warn and when to cut a session off, from the grant's end. Pure schedule + a timer set on a Clock.
import type { Clock } from "../../core/clock.ts";

export const DEFAULT_WARNINGS_MS = [5 * 60_000, 60_000];

export type ExpiryStep = { atMs: number; kind: "warn"; remainingMs: number } | { atMs: number; kind: "end" };

/** Warnings still ahead of `nowMs` (earliest first), then the end. */
export function expirySchedule(
  untilMs: number,
  nowMs: number,
  warningsMs = DEFAULT_WARNINGS_MS,
): ExpiryStep[] {
  const steps: ExpiryStep[] = [];
  for (const w of [...warningsMs].sort((a, b) => b - a)) {
    const at = untilMs - w;
    if (at > nowMs) steps.push({ atMs: at, kind: "warn", remainingMs: w });
  }
  steps.push({ atMs: untilMs, kind: "end" });
  return steps;
}

/** "5 minutes", "1 minute", "90 seconds" */
export function describeRemaining(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s >= 120 && s % 60 === 0) return `${s / 60} minutes`;
  if (s === 60) return "1 minute";
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  if (s >= 120) return `${Math.round(s / 60)} minutes`;
  return `${s} seconds`;
}

/** Arms the schedule for one session; `reset` re-arms it when the grant's end changes. */
export class ExpiryTimer {
  #cancels: (() => void)[] = [];
  #untilMs = NaN;

  constructor(
    private readonly clock: Clock,
    private readonly onStep: (step: ExpiryStep) => void,
    private readonly warningsMs = DEFAULT_WARNINGS_MS,
  ) {}

  get untilMs(): number {
    return this.#untilMs;
  }

  reset(untilMs: number): void {
    if (untilMs === this.#untilMs) return;
    this.cancel();
    this.#untilMs = untilMs;
    for (const step of expirySchedule(untilMs, this.clock.now(), this.warningsMs)) {
      this.#cancels.push(this.clock.setTimer(step.atMs, () => this.onStep(step)));
    }
  }

  cancel(): void {
    for (const c of this.#cancels) c();
    this.#cancels = [];
  }
}
