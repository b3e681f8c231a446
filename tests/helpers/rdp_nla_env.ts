// Shared by the RDP tests with Network Level Authentication: an NLA shadow backend (freerdp-shadow-cli
// /sec:nla with a SAM file) behind the proxy for the duration of a test, and xfreerdp /sec:nla clients.
import { runXfreerdp, type ShadowBackend, type ShadowNlaAccount, startShadow } from "./rdp_backend.ts";
import { haveRdpTools } from "./rdp_backend.ts";
import { POOL_IP, type RdpEnv, type RdpEnvOptions, startRdpEnv } from "./rdp_env.ts";

/** alice's jump password in these tests */
export const JUMP_PASSWORD = "Alice-jump-1";

/** xfreerdp, Xvfb, freerdp-shadow-cli and winpr-hash (the shadow's SAM file) are installed */
export function haveNlaTools(): boolean {
  try {
    return haveRdpTools() && Deno.statSync("/usr/bin/winpr-hash").isFile;
  } catch (_e) {
    return false;
  }
}

/** Something between the proxy and the backend (a relay that taps the bytes, say), closed after the test. */
export interface BackendFront {
  port: number;
  close(): Promise<void>;
}

/**
 * An NLA shadow knowing `accounts`, a proxy in front of it (alice has the jump password), then `fn`;
 * everything is stopped afterwards. `front` may put a relay between the proxy and the shadow.
 */
export async function withNlaShadow<F extends BackendFront = BackendFront>(
  accounts: ShadowNlaAccount[],
  env: Omit<RdpEnvOptions, "backendPort">,
  fn: (e: RdpEnv, shadow: ShadowBackend, front: F | null) => Promise<void>,
  front?: (shadowPort: number) => Promise<F>,
): Promise<void> {
  const shadow = await startShadow({ nla: accounts });
  let relay: F | null = null;
  try {
    relay = front ? await front(shadow.port) : null;
    const e = await startRdpEnv({
      backendPort: relay?.port ?? shadow.port,
      alicePassword: JUMP_PASSWORD,
      ...env,
    });
    try {
      await fn(e, shadow, relay);
    } finally {
      await e.close();
    }
  } finally {
    await relay?.close();
    await shadow.stop();
  }
}

/** The client options of an NLA login (`/sec:nla`), as alice with her jump password unless told. */
export function nlaLogin(user = "alice", password = JUMP_PASSWORD, args: string[] = []) {
  return { user, password, args: ["/sec:nla", ...args] };
}

/** An NLA login through the proxy's pool address expected to end on its own (a denial); killed after 20 s. */
export function runNla(env: RdpEnv, user = "alice", password = JUMP_PASSWORD, args: string[] = []) {
  return runXfreerdp({ host: POOL_IP, port: env.port, ...nlaLogin(user, password, args), runMs: 20_000 });
}
