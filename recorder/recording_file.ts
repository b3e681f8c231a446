// Where every recording's bytes go: a new file (0600, must not exist), in the clear or, with
// `recording_encryption = age`, encrypted as it streams (no plaintext ever reaches the disk) to the
// configured recipients in the age format, its name ending in `.age`. Writers (asciicast.ts,
// rdp_file_writer.ts) take the sink and do not know which; a new recording kind gets encryption by
// opening its file here.
//
// age seals the payload in 64 KiB chunks and only the last may be shorter, so a plain stream would hold
// up to 64 KiB of terminal output in memory, invisible to the live view and lost on a crash. Instead the
// chunk being filled is sealed as the file's *last* chunk at least every `flushMs` (and at close) and
// written at its fixed place; when it fills up it is sealed again as a middle chunk, at the same place,
// and the next one begins. So at every moment the file on disk is a complete, valid age file, behind the
// stream by at most `flushMs`. Re-sealing a grown last chunk reuses its nonce, but the new plaintext only
// extends the old one, so the ciphertext of the common prefix is identical and nothing leaks; the reused
// Poly1305 key would let someone holding both versions forge that chunk — no more than anyone holding a
// recipient can do with a whole age file anyway (age does not authenticate the sender; the signed
// manifest does). A kill -9 loses at most the last `flushMs`, and a chunk torn mid-write leaves the file
// decryptable up to the chunk before it (core/age_file.ts, `age -d`).
import { CHUNK, newAgeFile, sealChunk, SEALED_CHUNK } from "../core/age.ts";
import type { RecordingEncryption } from "../core/recording_identity.ts";
import { IdleFile, type RecordingFileHandle } from "./idle_file.ts";

/** Where a writer's bytes go: a Deno.FsFile, or the encrypting sink; close() finishes the file. */
export interface RecordingSink {
  write(p: Uint8Array): Promise<number>;
  close(): void | Promise<void>;
}

/** `path` as stored: + ".age" when encrypted. */
export function storedRecordingPath(
  path: string,
  encryption: RecordingEncryption | null | undefined,
): string {
  return encryption ? `${path}.age` : path;
}

/** Creates `path` (+ ".age" when encrypted) with mode 0600; it must not exist. */
export async function createRecordingFile(
  path: string,
  encryption: RecordingEncryption | null | undefined,
): Promise<{ path: string; sink: RecordingSink }> {
  const finalPath = storedRecordingPath(path, encryption);
  // the header first: a bad recipient fails before any file exists
  const start = encryption ? await newAgeFile(encryption.recipients) : null;
  const file = await Deno.open(finalPath, { write: true, createNew: true, mode: 0o600 });
  let handle: IdleFile | null = null;
  try {
    await Deno.chmod(finalPath, 0o600); // mode at create is filtered by umask; be explicit
    // an idle recording gives its descriptor back (idle_file.ts)
    handle = new IdleFile(finalPath, file);
    if (!encryption || !start) return { path: finalPath, sink: handle };
    const sink = new AgeSink(handle, start, encryption.flushMs ?? 1000);
    await sink.start();
    return { path: finalPath, sink };
  } catch (e) {
    if (handle) handle.close();
    else file.close();
    await Deno.remove(finalPath).catch(() => {});
    throw e;
  }
}

class AgeSink implements RecordingSink {
  #file: RecordingFileHandle;
  #key: Uint8Array;
  #header: Uint8Array;
  #buf = new Uint8Array(CHUNK);
  #fill = 0;
  /** bytes of the current chunk already sealed on disk as the last chunk */
  #onDisk = -1;
  #counter = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  #flushMs: number;
  #closing = false;

  constructor(
    file: RecordingFileHandle,
    start: { head: Uint8Array; payloadKey: Uint8Array },
    flushMs: number,
  ) {
    this.#file = file;
    this.#header = start.head;
    this.#key = start.payloadKey;
    this.#flushMs = flushMs;
  }

  async start(): Promise<void> {
    await this.#writeAt(0, this.#header);
    await this.#sealLast(); // an empty recording is still a valid age file
  }

  write(p: Uint8Array): Promise<number> {
    const run = this.#chain.then(async () => {
      if (this.#failed) throw this.#failed;
      let off = 0;
      while (off < p.length) {
        // a full chunk becomes a middle one only once a byte follows it: the chunk being filled is then
        // never empty (an empty last chunk is valid only as the whole payload)
        if (this.#fill === CHUNK) {
          await this.#writeAt(this.#chunkPos(), sealChunk(this.#key, this.#counter, false, this.#buf));
          this.#counter++;
          this.#fill = 0;
          this.#onDisk = -1;
        }
        const n = Math.min(CHUNK - this.#fill, p.length - off);
        this.#buf.set(p.subarray(off, off + n), this.#fill);
        this.#fill += n;
        off += n;
      }
      this.#schedule();
    });
    this.#chain = run.catch((e) => {
      this.#failed ??= e as Error;
    });
    return run.then(() => p.length);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#chain;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      if (!this.#failed) await this.#sealLast();
    } finally {
      this.#file.close();
    }
  }

  #schedule(): void {
    if (this.#closing || this.#timer !== null || this.#fill === this.#onDisk) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#chain = this.#chain.then(() => this.#failed ? undefined : this.#sealLast()).catch((e) => {
        this.#failed ??= e as Error;
      });
    }, this.#flushMs);
  }

  async #sealLast(): Promise<void> {
    if (this.#fill === this.#onDisk) return;
    const sealed = sealChunk(this.#key, this.#counter, true, this.#buf.subarray(0, this.#fill));
    await this.#writeAt(this.#chunkPos(), sealed);
    await this.#file.truncate(this.#chunkPos() + sealed.length);
    this.#onDisk = this.#fill;
  }

  #chunkPos(): number {
    return this.#header.length + this.#counter * SEALED_CHUNK;
  }

  async #writeAt(pos: number, bytes: Uint8Array): Promise<void> {
    await this.#file.seek(pos, Deno.SeekMode.Start);
    let off = 0;
    while (off < bytes.length) off += await this.#file.write(bytes.subarray(off));
  }
}
