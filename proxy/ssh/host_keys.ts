// The jump host's own SSH host keys under the data directory (created on first start, mode 0600). The
// per-server keys the appliance logs in to backends with are keys/backend_keys.ts.
import { join } from "node:path";
import { generateKeyPairSync } from "./ssh2_types.ts";

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
