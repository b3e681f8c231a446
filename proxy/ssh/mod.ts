// The SSH proxy. `serve` starts it in a worker with startSshService; tests and benchmarks run the same
// core in-process with createSshProxy.
export { type SshService, type SshServiceDeps, startSshService } from "../../app/ssh_service.ts";
export { createSshProxy, type ListenAddress, type SshProxy } from "./server.ts";
export type { Log, SshProxyDeps } from "./runtime.ts";
export { type Clock, scaledClock, systemClock } from "./clock.ts";
export { backendKeyLoader, loadOrCreateHostKeys, sshDir } from "./host_keys.ts";
export {
  BackendKeyError,
  type BackendKeyInfo,
  generateBackendKey,
  readBackendKey,
  removeBackendKey,
  writeBackendKey,
} from "../../keys/backend_keys.ts";
