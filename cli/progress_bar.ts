// Conversion progress for the terminal (pure): a one-line bar redrawn with \r on a TTY, and plain
// lines (only when something changed enough) when the output is a file or a pipe.

export interface ProgressView {
  job: number;
  state: string;
  percent: number;
  etaSeconds: number | null;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** `job 7 [#########...........]  45.0%  ETA 0:12  running` (no newline). */
export function progressBar(v: ProgressView, width = 30): string {
  const p = Math.min(100, Math.max(0, v.percent));
  const filled = Math.round((p / 100) * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  return `job ${v.job} [${bar}] ${p.toFixed(1).padStart(5)}%  ETA ${formatEta(v.etaSeconds)}  ${v.state}`;
}

/**
 * For non-terminal output: a line when the state changes or progress crosses the next `step` percent;
 * null otherwise. `last` is the view of the previous printed line.
 */
export function progressLine(v: ProgressView, last: ProgressView | null, step = 10): string | null {
  const bucket = (x: number) => Math.floor(x / step);
  if (last && last.state === v.state && bucket(last.percent) === bucket(v.percent)) return null;
  const eta = v.state === "running" && v.etaSeconds !== null
    ? ` (about ${formatEta(v.etaSeconds)} left)`
    : "";
  return `job ${v.job}: ${v.state} ${Math.floor(v.percent)}%${eta}`;
}
