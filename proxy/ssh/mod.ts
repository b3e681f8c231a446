// The SSH proxy. `serve` starts it in a worker (app/ssh_service.ts runs ssh_worker.ts); tests and
// benchmarks run the same core in-process with createSshProxy.
export { createSshProxy, type ListenAddress, type SshProxy } from "./server.ts";
export type { Log, SshProxyDeps } from "./runtime.ts";
export { type Clock, scaledClock, systemClock } from "../../core/clock.ts";
export { loadOrCreateHostKeys, sshDir } from "./host_keys.ts";
