// Operations endpoints and the metrics registry shared by the proxies, the console and the conversion pool.
export { createOpsApp, isLoopback, type OpsDeps, type OpsEnv } from "./app.ts";
export { DECISION_BUCKETS, type JumphostMetrics, jumphostMetrics } from "../../core/metrics/jumphost_metrics.ts";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../core/metrics/prometheus.ts";
export {
  type Counter,
  type Gauge,
  type Histogram,
  type Labels,
  mergeFamilies,
  type MetricFamily,
  MetricsError,
  MetricsHub,
  MetricsRegistry,
} from "../../core/metrics/registry.ts";
