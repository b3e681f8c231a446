// The metrics registry shared by the proxies, the console and the conversion pool, the program's metric
// families, and their Prometheus text.
export { DECISION_BUCKETS, type JumphostMetrics, jumphostMetrics } from "./jumphost_metrics.ts";
export { formatNumber, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
export {
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramSample,
  type Labels,
  mergeFamilies,
  type MetricFamily,
  MetricsError,
  MetricsHub,
  MetricsRegistry,
} from "./registry.ts";
