// Operations endpoints (/healthz, /metrics) over the metrics hub of core/metrics/.
export { createOpsApp, isLoopback, type OpsDeps, type OpsEnv } from "./app.ts";
