import assert from "node:assert/strict";
import { formatNumber, renderPrometheus } from "./prometheus.ts";
import { MetricsRegistry } from "./registry.ts";
import { jumphostMetrics } from "./jumphost_metrics.ts";
import { parseExposition } from "../../tests/helpers/prom_text.ts";

Deno.test("renderPrometheus() writes HELP/TYPE, escaped labels and cumulative histogram buckets", () => {
  const reg = new MetricsRegistry();
  const m = jumphostMetrics(reg);
  m.connections.inc({ protocol: "ssh" });
  m.connections.inc({ protocol: "ssh" }, 2);
  m.denials.inc({ protocol: "rdp", reason: 'odd "reason"\\with\nnewline' });
  m.decisionSeconds.observe({ protocol: "ssh" }, 0.00002); // bucket 0.00005
  m.decisionSeconds.observe({ protocol: "ssh" }, 0.0007); // bucket 0.001
  m.decisionSeconds.observe({ protocol: "ssh" }, 3); // +Inf
  const text = renderPrometheus(reg.collect());
  const v = parseExposition(text);
  assert.equal(v.get('jumphost_connections_total{protocol="ssh"}'), 3);
  assert.equal(
    v.get('jumphost_access_denials_total{protocol="rdp",reason="odd \\"reason\\"\\\\with\\nnewline"}'),
    1,
  );
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="0.00001"}'), 0);
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="0.00005"}'), 1);
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="0.0005"}'), 1);
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="0.001"}'), 2);
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="0.1"}'), 2);
  assert.equal(v.get('jumphost_decision_duration_seconds_bucket{protocol="ssh",le="+Inf"}'), 3);
  assert.equal(v.get('jumphost_decision_duration_seconds_count{protocol="ssh"}'), 3);
  assert.ok(Math.abs(v.get('jumphost_decision_duration_seconds_sum{protocol="ssh"}')! - 3.00072) < 1e-12);
  // a metric without labels is there (as 0) before its first event
  assert.equal(v.get("jumphost_syslog_send_errors_total"), 0);
  assert.match(text, /^# TYPE jumphost_decision_duration_seconds histogram$/m);
  assert.match(text, /^# HELP jumphost_connections_total Client connections accepted$/m);
});

Deno.test("renderPrometheus() escapes HELP text and sorts families and series", () => {
  const text = renderPrometheus([
    { name: "b_total", help: "two\nlines \\ here", type: "counter", samples: [{ labels: {}, value: 1 }] },
    {
      name: "a",
      help: "a gauge",
      type: "gauge",
      samples: [{ labels: { x: "2" }, value: -1.5 }, { labels: { x: "1" }, value: 0 }],
    },
  ]);
  assert.equal(
    text,
    [
      "# HELP a a gauge",
      "# TYPE a gauge",
      'a{x="1"} 0',
      'a{x="2"} -1.5',
      "# HELP b_total two\\nlines \\\\ here",
      "# TYPE b_total counter",
      "b_total 1",
      "",
    ].join("\n"),
  );
  parseExposition(text);
});

Deno.test("formatNumber() prints infinities and NaN the Prometheus way", () => {
  assert.equal(formatNumber(Infinity), "+Inf");
  assert.equal(formatNumber(-Infinity), "-Inf");
  assert.equal(formatNumber(NaN), "NaN");
  assert.equal(formatNumber(0.00025), "0.00025");
  assert.equal(formatNumber(1e21), "1e+21");
});
