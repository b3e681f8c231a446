// Prometheus text exposition format 0.0.4, rendered from plain metric families. Pure.
import type { HistogramSample, Labels, MetricFamily } from "./registry.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64) as Prometheus prints it: +Inf, -Inf, NaN, shortest decimal. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels).sort().map((k) => `${k}="${escapeLabelValue(labels[k])}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function sortKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join("\u0001");
}

function histogramLines(name: string, buckets: number[], s: HistogramSample): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  buckets.forEach((b, i) => {
    cumulative += s.counts[i] ?? 0;
    lines.push(`${name}_bucket${labelText(s.labels, ["le", formatNumber(b)])} ${cumulative}`);
  });
  lines.push(`${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
  lines.push(`${name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}`);
  lines.push(`${name}_count${labelText(s.labels)} ${s.count}`);
  return lines;
}

/** Families sorted by name, samples by label set, so the output is stable for tests and diffs. */
export function renderPrometheus(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of [...families].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram") {
      for (const s of [...f.samples].sort((a, b) => sortKey(a.labels).localeCompare(sortKey(b.labels)))) {
        out.push(...histogramLines(f.name, f.buckets, s));
      }
    } else {
      for (const s of [...f.samples].sort((a, b) => sortKey(a.labels).localeCompare(sortKey(b.labels)))) {
        out.push(`${f.name}${labelText(s.labels)} ${formatNumber(s.value)}`);
      }
    }
  }
  return out.join("\n") + "\n";
}
