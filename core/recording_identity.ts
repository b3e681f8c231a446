// The appliance's age identity for recordings at rest: <data dir>/secret/recordings.agekey (directory
// 0700, file 0600), created on first need in the format of `age-keygen` so `age -d -i` reads it as is.
// With `recording_encryption = age` every recording is encrypted to it (so the appliance can replay,
// index and convert) and to the configured `recording_recipients`. Losing it makes the recordings
// unreadable to the appliance: back it up (README, "Encrypted recordings").
import { join } from "node:path";
import { AgeError, checkRecipient, newIdentity, recipientOf } from "./age.ts";

export class RecordingIdentityError extends Error {
  override name = "RecordingIdentityError";
  constructor(readonly path: string, message: string) {
    super(`recording identity ${path}: ${message}`);
  }
}

/** What a recording sink encrypts to: age1… recipients, the appliance's own among them. */
export interface RecordingEncryption {
  recipients: string[];
  /** the longest plaintext waits before it is on disk (default 1000 ms; recorder/recording_file.ts) */
  flushMs?: number;
}

/** How readers get the identity that opens `.age` recordings (loaded on first need). */
export interface RecordingKeys {
  identity(): Promise<string>;
}

export function recordingIdentityPath(dataDir: string): string {
  return join(dataDir, "secret", "recordings.agekey");
}

/** Reads the identity, creating it when missing and `create` is set. A file open to group/others is refused. */
export async function loadRecordingIdentity(
  dataDir: string,
  opts: { create?: boolean } = {},
): Promise<string> {
  const path = recordingIdentityPath(dataDir);
  try {
    return await readIdentity(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    if (!opts.create) {
      throw new RecordingIdentityError(
        path,
        "does not exist (restore it from the backup to read encrypted recordings)",
      );
    }
  }
  const dir = join(dataDir, "secret");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const identity = await newIdentity();
  const text = `# created: ${new Date().toISOString()}\n# public key: ${await recipientOf(
    identity,
  )}\n${identity}\n`;
  // written aside, then linked into place: of two processes starting together both end with the first key
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.link(tmp, path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return await readIdentity(path);
}

async function readIdentity(path: string): Promise<string> {
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) {
    throw new RecordingIdentityError(path, `mode ${(st.mode & 0o777).toString(8)} is too open (want 600)`);
  }
  const line = (await Deno.readTextFile(path)).split("\n").map((l) => l.trim())
    .find((l) => l !== "" && !l.startsWith("#"));
  if (!line) throw new RecordingIdentityError(path, "holds no identity");
  try {
    await recipientOf(line);
  } catch (e) {
    if (e instanceof AgeError) throw new RecordingIdentityError(path, e.message);
    throw e;
  }
  return line;
}

/** Readers' keys for a data directory: the identity is read once, on the first `.age` file. */
export function recordingKeys(dataDir: string): RecordingKeys {
  let p: Promise<string> | null = null;
  return {
    identity: () => {
      p ??= loadRecordingIdentity(dataDir).catch((e) => {
        p = null; // a restored file is found on the next try
        throw e;
      });
      return p;
    },
  };
}

/**
 * What new recordings are encrypted to under the configuration: null when `recording_encryption` is off;
 * else the configured recipients plus the appliance's own (its identity created on first need).
 */
export async function recordingEncryption(
  c: { recordingEncryption: "off" | "age"; recordingRecipients: string[] },
  dataDir: string,
): Promise<RecordingEncryption | null> {
  if (c.recordingEncryption !== "age") return null;
  const own = await recipientOf(await loadRecordingIdentity(dataDir, { create: true }));
  const all = [own, ...c.recordingRecipients.map(checkRecipient)];
  return { recipients: [...new Set(all)] };
}
