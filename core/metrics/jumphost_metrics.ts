// The catalogue of jumphost metrics: one place that names them, so every isolate registers the same families
// (and the hub can sum them). Proxies and the conversion pool take the handles from here.
import type { Counter, Gauge, Histogram, MetricsRegistry } from "./registry.ts";

/** seconds; decide() is in-memory (target p99 < 1 ms), so the interesting range is 10 µs – 100 ms */
export const DECISION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1];

export interface JumphostMetrics {
  /** accepted client connections, before any decision; labels: protocol */
  connections: Counter;
  /** access denials; labels: protocol, reason (the policy reason code, e.g. "no_policy") */
  denials: Counter;
  /** time spent in policy decide(); labels: protocol */
  decisionSeconds: Histogram;
  /** bytes appended to recordings by this process; labels: protocol */
  recordingBytes: Counter;
  /** conversion jobs by state (queued, running, failed); set by the conversion pool */
  conversionQueue: Gauge;
  /** supervised services restarted after a crash; labels: service */
  workerRestarts: Counter;
  /** 1 while a service of `serve` runs, 0 while it is down (waiting to retry its start or a restart) */
  serviceUp: Gauge;
  /** failed attempts to deliver audit events to syslog (they are retried, not dropped) */
  syslogErrors: Counter;
  /** pre-identification audit events folded into a per-minute summary row; labels: protocol */
  auditAggregated: Counter;
  /** audit events that could not be written (each also logged); labels: protocol, reason */
  auditLost: Counter;
  /** audit events appended to the local spool during a database outage; labels: protocol */
  auditSpooled: Counter;
  /** 1 while the database answers serve's probe, 0 during an outage */
  databaseUp: Gauge;
  /** database outages seen by serve; labels: restarted ("true" when serve restarted the embedded cluster) */
  databaseOutages: Counter;
  /** connections refused before authentication by a setup cap or timeout; labels: protocol, reason */
  setupRefused: Counter;
}

export function jumphostMetrics(reg: MetricsRegistry): JumphostMetrics {
  return {
    connections: reg.counter("jumphost_connections_total", "Client connections accepted", ["protocol"]),
    denials: reg.counter("jumphost_access_denials_total", "Access requests denied", ["protocol", "reason"]),
    decisionSeconds: reg.histogram(
      "jumphost_decision_duration_seconds",
      "Policy decision latency",
      ["protocol"],
      DECISION_BUCKETS,
    ),
    recordingBytes: reg.counter(
      "jumphost_recording_written_bytes_total",
      "Bytes written to session recordings",
      ["protocol"],
    ),
    conversionQueue: reg.gauge("jumphost_conversion_queue", "Recording conversion jobs by state", ["state"]),
    workerRestarts: reg.counter("jumphost_worker_restarts_total", "Crashed services restarted", ["service"]),
    serviceUp: reg.gauge("jumphost_service_up", "1 when the service runs, 0 while it is down", ["service"]),
    syslogErrors: reg.counter(
      "jumphost_syslog_send_errors_total",
      "Failed audit deliveries to syslog (retried)",
    ),
    auditAggregated: reg.counter(
      "jumphost_audit_aggregated_total",
      "Pre-identification audit events counted in a summary row instead of a row each",
      ["protocol"],
    ),
    auditLost: reg.counter(
      "jumphost_audit_lost_total",
      "Audit events that could not be written (queue full or write failed; each is logged)",
      ["protocol", "reason"],
    ),
    auditSpooled: reg.counter(
      "jumphost_audit_spooled_total",
      "Audit events kept in the local spool during a database outage (written once it is back)",
      ["protocol"],
    ),
    databaseUp: reg.gauge("jumphost_database_reachable", "1 while the database answers serve's probe"),
    databaseOutages: reg.counter(
      "jumphost_database_outages_total",
      "Database outages seen by serve (restarted: the embedded cluster was restarted)",
      ["restarted"],
    ),
    setupRefused: reg.counter(
      "jumphost_setup_refused_total",
      "Connections cut before authentication by a setup cap or timeout",
      ["protocol", "reason"],
    ),
  };
}
