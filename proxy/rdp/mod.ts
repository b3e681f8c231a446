// The RDP recording proxy. `serve` starts it in a worker (app/rdp_service.ts runs rdp_worker.ts); tests
// and benchmarks run the same core in-process with createRdpProxy.
export { createRdpProxy, type RdpProxy, type RdpProxyDeps } from "./proxy.ts";
export { DEFAULT_TIMEOUTS, type Timeouts } from "./proxy_context.ts";
export { defaultCertPaths, loadOrCreateCertificate, type TlsMaterial } from "./tls.ts";
export { RdpProxyError, type RdpProxyErrorCode } from "./errors.ts";
