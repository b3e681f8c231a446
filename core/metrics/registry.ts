// A tiny in-process metrics registry (counters, gauges, histograms with labels). Pure: no I/O, no clock.
// Each isolate (main, every proxy worker) has its own registry; workers post `collect()` snapshots (plain,
// structured-clone-able objects) to the main isolate, whose MetricsHub sums them for /metrics.

export type Labels = Record<string, string>;
export type MetricType = "counter" | "gauge" | "histogram";

export interface ValueSample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** per-bucket (not cumulative) counts; one more than `buckets` (the last is +Inf) */
  counts: number[];
  sum: number;
  count: number;
}

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: ValueSample[] }
  | { name: string; help: string; type: "histogram"; buckets: number[]; samples: HistogramSample[] };

export class MetricsError extends Error {
  constructor(readonly code: "bad_name" | "bad_labels" | "type_conflict" | "bad_value", message: string) {
    super(message);
    this.name = "MetricsError";
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Gauge {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  labelNames: string[];
  buckets: number[];
  values: Map<string, ValueSample>;
  hist: Map<string, HistogramSample>;
}

/** Stable key for a label set (label names are fixed per family, so order is the family's). */
function keyOf(f: Family, labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length !== f.labelNames.length || f.labelNames.some((n) => typeof labels[n] !== "string")) {
    throw new MetricsError(
      "bad_labels",
      `${f.name} takes labels [${f.labelNames.join(", ")}], got [${names}]`,
    );
  }
  return JSON.stringify(f.labelNames.map((n) => labels[n]));
}

export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  #family(
    name: string,
    help: string,
    type: MetricType,
    labelNames: string[],
    buckets: number[] = [],
  ): Family {
    const existing = this.#families.get(name);
    if (existing) {
      if (existing.type !== type || existing.labelNames.join() !== labelNames.join()) {
        throw new MetricsError(
          "type_conflict",
          `${name} is already registered as a different ${existing.type}`,
        );
      }
      return existing;
    }
    if (!METRIC_NAME.test(name)) throw new MetricsError("bad_name", `bad metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__") || l === "le") {
        throw new MetricsError("bad_name", `bad label name "${l}" for ${name}`);
      }
    }
    if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))) {
      throw new MetricsError("bad_value", `${name}: buckets must be finite and increasing`);
    }
    const f: Family = { name, help, type, labelNames, buckets, values: new Map(), hist: new Map() };
    // a metric without labels exists (as 0) from the start, so dashboards see it before the first event
    if (labelNames.length === 0) {
      if (type === "histogram") {
        f.hist.set("[]", { labels: {}, counts: new Array(buckets.length + 1).fill(0), sum: 0, count: 0 });
      } else f.values.set("[]", { labels: {}, value: 0 });
    }
    this.#families.set(name, f);
    return f;
  }

  #add(f: Family, labels: Labels, by: number, set = false): void {
    if (!Number.isFinite(by)) throw new MetricsError("bad_value", `${f.name}: value must be finite`);
    const k = keyOf(f, labels);
    const s = f.values.get(k);
    if (s) s.value = set ? by : s.value + by;
    else f.values.set(k, { labels: { ...labels }, value: by });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const f = this.#family(name, help, "counter", labelNames);
    return {
      inc: (labels = {}, by = 1) => {
        if (by < 0) throw new MetricsError("bad_value", `${name}: a counter only goes up`);
        this.#add(f, labels, by);
      },
    };
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    const f = this.#family(name, help, "gauge", labelNames);
    return {
      set: (labels, value) => this.#add(f, labels, value, true),
      inc: (labels = {}, by = 1) => this.#add(f, labels, by),
      dec: (labels = {}, by = 1) => this.#add(f, labels, -by),
    };
  }

  histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
    const f = this.#family(name, help, "histogram", labelNames, buckets);
    return {
      observe: (labels, value) => {
        if (!Number.isFinite(value)) throw new MetricsError("bad_value", `${name}: value must be finite`);
        const k = keyOf(f, labels);
        let s = f.hist.get(k);
        if (!s) {
          s = { labels: { ...labels }, counts: new Array(f.buckets.length + 1).fill(0), sum: 0, count: 0 };
          f.hist.set(k, s);
        }
        let i = f.buckets.findIndex((b) => value <= b);
        if (i < 0) i = f.buckets.length;
        s.counts[i]++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** A deep copy of every family: safe to post to another isolate. */
  collect(): MetricFamily[] {
    return [...this.#families.values()].map((f) =>
      f.type === "histogram"
        ? {
          name: f.name,
          help: f.help,
          type: "histogram" as const,
          buckets: [...f.buckets],
          samples: [...f.hist.values()].map((s) => ({
            ...s,
            labels: { ...s.labels },
            counts: [...s.counts],
          })),
        }
        : {
          name: f.name,
          help: f.help,
          type: f.type as "counter" | "gauge",
          samples: [...f.values.values()].map((s) => ({ labels: { ...s.labels }, value: s.value })),
        }
    );
  }
}

/** Sums families by name and label set. Histograms with a different bucket layout are not merged (dropped). */
export function mergeFamilies(lists: MetricFamily[][]): MetricFamily[] {
  const out = new Map<string, MetricFamily>();
  for (const list of lists) {
    for (const f of list) {
      const have = out.get(f.name);
      if (!have) {
        out.set(f.name, structuredClone(f));
        continue;
      }
      if (have.type !== f.type) continue;
      if (have.type === "histogram" && f.type === "histogram") {
        if (have.buckets.join() !== f.buckets.join()) continue;
        for (const s of f.samples) {
          const t = have.samples.find((x) => sameLabels(x.labels, s.labels));
          if (!t) have.samples.push(structuredClone(s));
          else {
            s.counts.forEach((c, i) => (t.counts[i] += c));
            t.sum += s.sum;
            t.count += s.count;
          }
        }
      } else if (have.type !== "histogram" && f.type !== "histogram") {
        for (const s of f.samples) {
          const t = have.samples.find((x) => sameLabels(x.labels, s.labels));
          if (!t) have.samples.push({ labels: { ...s.labels }, value: s.value });
          else t.value += s.value;
        }
      }
    }
  }
  return [...out.values()];
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * The main isolate's view: its own registry plus the latest snapshot of each worker. When a worker goes
 * away, its counters and histograms are kept (folded into `retired`) so totals never go backwards; its
 * gauges are dropped (a dead worker has no active anything).
 */
export class MetricsHub {
  readonly local = new MetricsRegistry();
  readonly #sources = new Map<string, MetricFamily[]>();
  #retired: MetricFamily[] = [];

  /** replaces the snapshot of one worker (call on every metrics message from it) */
  update(source: string, families: MetricFamily[]): void {
    this.#sources.set(source, families);
  }

  /** the worker `source` ended (crashed or stopped): keep what it counted */
  retire(source: string): void {
    const last = this.#sources.get(source);
    this.#sources.delete(source);
    if (!last) return;
    const kept = last.filter((f) => f.type !== "gauge");
    this.#retired = mergeFamilies([this.#retired, kept]);
  }

  collect(extra: MetricFamily[] = []): MetricFamily[] {
    return mergeFamilies([this.local.collect(), ...this.#sources.values(), this.#retired, extra]);
  }
}
