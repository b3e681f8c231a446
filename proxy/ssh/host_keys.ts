// The jump host's own SSH keys under the data directory: host keys (created on first start, mode 0600)
// and the per-server keys the appliance may log in to backends with (ssh/backend_keys/<server name>).
import { join } from "node:path";
import { generateKeyPairSync } from "./ssh2_types.ts";
import { BackendKeyError, backendKeyPath } from "../../keys/backend_keys.ts";

export function sshDir(dataDir: string): string {
  return join(dataDir, "ssh");
}

/** Reads the host key(s), creating an ed25519 key the first time. */
export async function loadOrCreateHostKeys(dataDir: string): Promise<string[]> {
  const dir = sshDir(dataDir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, "ssh_host_ed25519_key");
  try {
    return [await Deno.readTextFile(path)];
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const pair = generateKeyPairSync("ed25519");
  try {
    // createNew: a concurrent first start keeps whichever key was written first
    await Deno.writeTextFile(path, pair.private, { createNew: true, mode: 0o600 });
    await Deno.writeTextFile(path + ".pub", pair.public + "\n", { mode: 0o644 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  return [await Deno.readTextFile(path)];
}

/** The appliance's private key for `server`, or null when none is configured (see backend_keys.ts). */
export function backendKeyLoader(dataDir: string): (server: string) => Promise<Uint8Array | null> {
  return async (server) => {
    let path: string;
    try {
      path = backendKeyPath(dataDir, server);
    } catch (e) {
      if (e instanceof BackendKeyError) return null; // not a server name: never a path
      throw e;
    }
    try {
      return await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  };
}
