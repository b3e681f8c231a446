// Files moved by scp and SFTP, kept where a server group asks for it: content-addressed by their SHA-256 under
// <recordings>/files/<first two hex>/<sha256> (directories 0700, files 0600), so the same content is stored
// once however often it moves. A file is written to files/tmp/ as it passes and renamed into place once its
// hash is known; a file over the cap, out of order or cut short is dropped, leaving its metadata and hash.
// With recording_encryption = age a kept file is encrypted as it is written (recording_file.ts) and stored as
// <sha256>.age; the name is still the SHA-256 of the content, so the same content is stored once either way.
import { createRecordingFile, type RecordingSink, storedRecordingPath } from "./recording_file.ts";
import { AGE_SUFFIX } from "../core/age_file.ts";
import type { RecordingEncryption } from "../core/recording_identity.ts";
import { join } from "node:path";

/** What became of a file the proxy tried to keep (added to its transfer in the session metadata). */
export type KeepOutcome =
  | { kept: true }
  | { kept: false; not_kept: "over_cap" | "incomplete" | "error"; cap_bytes?: number };

/** Bytes queued for the disk above which the relay waits (the recording writer's rule). */
const HIGH_WATER = 4 * 2 ** 20;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function filesDir(recordingsDir: string): string {
  return join(recordingsDir, "files");
}

/** Where a kept file with this hash lives; null for anything that is not a SHA-256 in lower-case hex. */
export function keptFilePath(recordingsDir: string, sha256: string): string | null {
  if (!SHA256_HEX.test(sha256)) return null;
  return join(filesDir(recordingsDir), sha256.slice(0, 2), sha256);
}

/** Where the kept file with this hash is stored (plain or `.age`), or null when it is not. */
export async function findKeptFile(recordingsDir: string, sha256: string): Promise<string | null> {
  const base = keptFilePath(recordingsDir, sha256);
  if (!base) return null;
  for (const p of [base, `${base}${AGE_SUFFIX}`]) if (await exists(p)) return p;
  return null;
}

/** One file being kept as it passes. Writes are queued (never awaited by the caller); see `full`. */
export class KeptFileWriter {
  #file: Promise<RecordingSink | null>;
  #chain: Promise<void>;
  #tmp: string;
  #bytes = 0;
  #queued = 0;
  #drain: { p: Promise<void>; resolve: () => void } | null = null;
  #dropped: KeepOutcome | null = null;

  /** called once when the copy cannot be written (disk full …): the proxy's on_recording_failure applies */
  onError: ((e: Error) => void) | null = null;

  constructor(
    private readonly recordingsDir: string,
    private readonly capBytes: number,
    declaredSize?: number,
    private readonly encryption: RecordingEncryption | null = null,
  ) {
    const tmpDir = join(filesDir(recordingsDir), "tmp");
    this.#tmp = storedRecordingPath(join(tmpDir, crypto.randomUUID()), encryption);
    if (declaredSize !== undefined && declaredSize > capBytes) {
      this.#dropped = { kept: false, not_kept: "over_cap", cap_bytes: capBytes };
      this.#file = Promise.resolve(null);
    } else {
      this.#file = Deno.mkdir(tmpDir, { recursive: true, mode: 0o700 })
        .then(async () => (await createRecordingFile(this.#tmp.replace(/\.age$/, ""), encryption)).sink)
        .catch((e) => {
          this.#fail(e);
          return null;
        });
    }
    this.#chain = this.#file.then(() => {});
  }

  /** The writer is behind by more than the high-water mark: the relay should wait for `drained()`. */
  get full(): boolean {
    return this.#queued > HIGH_WATER;
  }

  drained(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (!this.#drain) {
      let resolve!: () => void;
      const p = new Promise<void>((r) => resolve = r);
      this.#drain = { p, resolve };
    }
    return this.#drain.p;
  }

  write(chunk: Uint8Array): void {
    if (this.#dropped) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.capBytes) {
      this.#dropped = { kept: false, not_kept: "over_cap", cap_bytes: this.capBytes };
      this.#release();
      return;
    }
    const copy = chunk.slice(); // the relay's buffer is not ours to hold
    this.#queued += copy.length;
    this.#chain = this.#chain.then(async () => {
      const f = await this.#file;
      try {
        if (f && !this.#dropped) {
          for (let off = 0; off < copy.length;) off += await f.write(copy.subarray(off));
        }
      } catch (e) {
        this.#fail(e);
      } finally {
        this.#queued -= copy.length;
        if (!this.full) this.#release();
      }
    });
  }

  #fail(e: unknown): void {
    if (this.#dropped?.kept === false && this.#dropped.not_kept === "error") return;
    this.#dropped = { kept: false, not_kept: "error" };
    this.onError?.(e instanceof Error ? e : new Error(String(e)));
  }

  #release(): void {
    this.#drain?.resolve();
    this.#drain = null;
  }

  /**
   * The file ended: with its hash it moves into the store (or is dropped if that content is there already);
   * without one (cut short, out of order) it is dropped.
   */
  async finish(sha256: string | undefined): Promise<KeepOutcome> {
    await this.#chain;
    this.#release();
    const f = await this.#file;
    try {
      await f?.close(); // an encrypted copy seals its last chunk here
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) this.#fail(e);
    }
    const base = sha256 ? keptFilePath(this.recordingsDir, sha256) : null;
    const final = base ? storedRecordingPath(base, this.encryption) : null;
    const outcome: KeepOutcome = this.#dropped ??
      (final ? { kept: true } : { kept: false, not_kept: "incomplete" });
    if (!f) return outcome;
    if (!outcome.kept || !final) {
      await Deno.remove(this.#tmp).catch(() => {});
      return outcome;
    }
    try {
      await Deno.mkdir(join(final, ".."), { recursive: true, mode: 0o700 });
      // the same content kept before, plain or encrypted, is not stored twice
      if (await findKeptFile(this.recordingsDir, sha256!)) await Deno.remove(this.#tmp);
      else await Deno.rename(this.#tmp, final);
      return outcome;
    } catch (e) {
      await Deno.remove(this.#tmp).catch(() => {});
      this.#fail(e);
      return { kept: false, not_kept: "error" };
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Whether a session's metadata lists a transfer whose content was kept under this hash: the console and CLI
 * serve a kept file only through a session that moved it.
 */
export function keptInSession(metadata: unknown, sha256: string): boolean {
  const transfers = (metadata as { transfers?: unknown } | null)?.transfers;
  if (!Array.isArray(transfers) || !SHA256_HEX.test(sha256)) return false;
  return transfers.some((t) => t?.kept === true && t?.sha256 === sha256);
}
