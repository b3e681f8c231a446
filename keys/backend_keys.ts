// The appliance's own key per backend server: <data>/ssh/backend_keys/<server name>, an unencrypted
// OpenSSH/PEM private key, mode 0600. The SSH proxy reads it per connection (backendKeyLoader), so a key
// written here is used by the next session without a reload.
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { fingerprint } from "../policy/ssh_key.ts";
import { generateKeyPairSync, parseKey } from "./ssh2_keys.ts";

export type BackendKeyErrorCode = "bad_name" | "invalid_key" | "exists" | "missing";

export class BackendKeyError extends Error {
  override name = "BackendKeyError";
  constructor(readonly code: BackendKeyErrorCode, message: string) {
    super(message);
  }
}

/** Same rule as server names in the database: the name is a file name, never a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface BackendKeyInfo {
  server: string;
  path: string;
  type: string;
  fingerprint: string;
  /** "TYPE BASE64 jumphost@SERVER", ready for the backend's authorized_keys */
  publicKey: string;
}

export function backendKeysDir(dataDir: string): string {
  return join(dataDir, "ssh", "backend_keys");
}

export function backendKeyPath(dataDir: string, server: string): string {
  if (!SAFE_NAME.test(server)) {
    throw new BackendKeyError("bad_name", `"${server.slice(0, 64)}" is not a server name`);
  }
  return join(backendKeysDir(dataDir), server);
}

/** Checks that `text` is a private key the proxy can use and describes its public half. */
export function describePrivateKey(server: string, path: string, text: string | Uint8Array): BackendKeyInfo {
  const k = parseKey(typeof text === "string" ? text : Buffer.from(text));
  if (k instanceof Error) {
    const why = /passphrase/i.test(k.message)
      ? "it is encrypted with a passphrase (the appliance needs an unencrypted key)"
      : k.message;
    throw new BackendKeyError("invalid_key", `not a usable private key: ${why}`);
  }
  if (!k.isPrivateKey()) {
    throw new BackendKeyError("invalid_key", "a public key was given; a private key is needed");
  }
  const blob = k.getPublicSSH();
  return {
    server,
    path,
    type: k.type,
    fingerprint: fingerprint(blob),
    publicKey: `${k.type} ${Buffer.from(blob).toString("base64")} jumphost@${server}`,
  };
}

export async function readBackendKey(dataDir: string, server: string): Promise<BackendKeyInfo | null> {
  const path = backendKeyPath(dataDir, server);
  let data: Uint8Array;
  try {
    data = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return describePrivateKey(server, path, data);
}

/** A new ed25519 private key (OpenSSH format). */
export function generateBackendKey(server: string): string {
  return generateKeyPairSync("ed25519", `jumphost@${server}`).private;
}

/**
 * Stores `privateKey` for `server` (validated first), mode 0600, written beside the target and renamed so
 * the proxy never reads half a key. An existing key is only replaced with `replace`.
 */
export async function writeBackendKey(
  dataDir: string,
  server: string,
  privateKey: string,
  opts: { replace?: boolean } = {},
): Promise<BackendKeyInfo> {
  const path = backendKeyPath(dataDir, server);
  const info = describePrivateKey(server, path, privateKey);
  const dir = backendKeysDir(dataDir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!opts.replace && await exists(path)) {
    throw new BackendKeyError(
      "exists",
      `server ${server} already has a backend key (use --force to replace it)`,
    );
  }
  const tmp = join(dir, `.${server}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, privateKey.endsWith("\n") ? privateKey : privateKey + "\n", {
      createNew: true,
      mode: 0o600,
    });
    await Deno.chmod(tmp, 0o600); // mode on create is subject to the umask; 0600 is never widened by it
    await chownLikeDataDir(dataDir, [join(dataDir, "ssh"), dir, tmp]);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return info;
}

export async function removeBackendKey(dataDir: string, server: string): Promise<BackendKeyInfo> {
  const info = await readBackendKey(dataDir, server).catch((e) => {
    // an unreadable or corrupt file can still be removed; describe it by path only
    if (e instanceof BackendKeyError) return null;
    throw e;
  });
  const path = backendKeyPath(dataDir, server);
  try {
    await Deno.remove(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new BackendKeyError("missing", `server ${server} has no backend key`);
    }
    throw e;
  }
  return info ?? { server, path, type: "unknown", fingerprint: "unknown", publicKey: "" };
}

/** When a server is deleted: its key must not serve a new server that later gets the same name. */
export async function removeBackendKeyIfAny(dataDir: string, server: string): Promise<BackendKeyInfo | null> {
  try {
    return await removeBackendKey(dataDir, server);
  } catch (e) {
    if (e instanceof BackendKeyError && (e.code === "missing" || e.code === "bad_name")) return null;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Run as root on an installed appliance (data dir owned by the service user), files we create must belong
 * to that user, or the proxy could not read its own key.
 */
async function chownLikeDataDir(dataDir: string, paths: string[]): Promise<void> {
  if (Deno.uid() !== 0) return;
  const owner = await Deno.stat(dataDir);
  if (owner.uid === null || owner.gid === null || owner.uid === 0) return;
  for (const p of paths) await Deno.chown(p, owner.uid, owner.gid);
}

/** The appliance's private key for `server`, or null when none is configured (read per connection by the SSH proxy). */
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
