// The appliance secret for console routes that seal values (a user's NT hash, a vaulted server password).
import { loadApplianceKey } from "../core/appliance_key.ts";
import type { SecretKey } from "../core/secret_box.ts";
import type { WebDeps } from "./deps.ts";
import { HttpError } from "./errors.tsx";

const loaded = new WeakMap<WebDeps, Promise<SecretKey>>();

/** deps.secretKey when given (tests), else the key under the data directory, loaded once per app. */
export function applianceKeyOf(deps: WebDeps): Promise<SecretKey> {
  if (deps.secretKey) return deps.secretKey();
  let p = loaded.get(deps);
  if (!p) {
    const dataDir = deps.dataDir;
    if (!dataDir) return Promise.reject(new HttpError(503, "This needs the appliance's data directory."));
    p = loadApplianceKey(dataDir);
    p.catch(() => loaded.delete(deps));
    loaded.set(deps, p);
  }
  return p;
}
