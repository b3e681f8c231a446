// A proxy worker's own metrics: counted in its isolate, sent to the main isolate's hub every few seconds
// (and once more when it stops) as a typed `metrics` message, so /metrics sums every worker.
import { type JumphostMetrics, jumphostMetrics, MetricsRegistry } from "../core/metrics/mod.ts";
import type { WorkerToMain } from "./messages.ts";

export interface WorkerMetrics {
  metrics: JumphostMetrics;
  /** sends the current figures now */
  flush(): void;
  /** stops the periodic sending after a last flush */
  stop(): void;
}

export function startWorkerMetrics(post: (m: WorkerToMain) => void, intervalMs = 5000): WorkerMetrics {
  const reg = new MetricsRegistry();
  const metrics = jumphostMetrics(reg);
  const flush = () => post({ type: "metrics", families: reg.collect() });
  const timer = setInterval(flush, intervalMs);
  return {
    metrics,
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}

/** Times one policy decision (the decision latency histogram). */
export function timedDecision<T>(
  m: JumphostMetrics | undefined,
  protocol: "ssh" | "rdp",
  decideFn: () => T,
): T {
  const t0 = performance.now();
  try {
    return decideFn();
  } finally {
    m?.decisionSeconds.observe({ protocol }, (performance.now() - t0) / 1000);
  }
}
