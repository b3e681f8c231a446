// The appliance secret: 32 random bytes in <data dir>/secret/appliance.key (directory 0700, file 0600),
// created on first need. It seals values at rest (db/secret_box.ts): NT hashes, vaulted server passwords.
// Losing it makes those values unreadable (users then set their password again, admins re-enter
// credentials); back it up with the database.
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { SECRET_KEY_BYTES, type SecretKey, secretKey } from "./secret_box.ts";

export class ApplianceKeyError extends Error {
  override name = "ApplianceKeyError";
  constructor(readonly path: string, message: string) {
    super(`appliance key ${path}: ${message}`);
  }
}

export function applianceKeyPath(dataDir: string): string {
  return join(dataDir, "secret", "appliance.key");
}

/**
 * Reads the appliance key, creating it when missing and `create` is set (the default). A key readable by
 * group or others, or of the wrong size, is refused rather than used.
 */
export async function loadApplianceKey(dataDir: string, opts: { create?: boolean } = {}): Promise<SecretKey> {
  const path = applianceKeyPath(dataDir);
  const dir = join(dataDir, "secret");
  try {
    return await readKey(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || opts.create === false) {
      if (e instanceof Deno.errors.NotFound) throw new ApplianceKeyError(path, "does not exist");
      throw e;
    }
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  // written aside, then linked into place: a reader never sees a half-written key, and of two processes
  // starting together the second link fails and both use the first key
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(tmp, randomBytes(SECRET_KEY_BYTES), { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.link(tmp, path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return await readKey(path);
}

async function readKey(path: string): Promise<SecretKey> {
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) {
    throw new ApplianceKeyError(path, `mode ${(st.mode & 0o777).toString(8)} is too open (want 600)`);
  }
  const bytes = await Deno.readFile(path);
  if (bytes.length !== SECRET_KEY_BYTES) {
    // a writer that died mid-write leaves a short file: refuse it rather than seal with a weak key
    throw new ApplianceKeyError(path, `holds ${bytes.length} bytes, want ${SECRET_KEY_BYTES}`);
  }
  return secretKey(bytes);
}
