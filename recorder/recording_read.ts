// How everything that reads a recording opens it: the file as is, or — its name ending in `.age`
// (recording_file.ts) — decrypted with the appliance's identity (core/recording_identity.ts) through
// npm:age-encryption (core/age_file.ts). Replay, search indexing, conversion and downloads go through
// here, so none of them knows whether the recording is encrypted. The live view follows a growing file
// with core/age_file.ts's AgeFileReader instead (web/live_stream.ts).
import { AgeError, CHUNK, headerEnd, SEALED_CHUNK, TAG } from "../core/age.ts";
import { ageDecrypt, AgeFileReader, isAgePath } from "../core/age_file.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";

export class RecordingReadError extends Error {
  override name = "RecordingReadError";
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A recording's plaintext, read in order. */
export interface RecordingSource {
  /** like Deno.FsFile.read: bytes read into `p`, null at the end */
  read(p: Uint8Array): Promise<number | null>;
  /** the plaintext size (from the stored size; exact for a complete file) */
  readonly size: number;
  readonly encrypted: boolean;
  /** closes the file (an encrypted one once its stream is cancelled: await it) */
  close(): void | Promise<void>;
  /**
   * plain files being followed: goes on from `from`, or from the last `keep` bytes when more are there
   * (true); an encrypted one has no such shortcut (the live view reads it through)
   */
  skipToTail?(keep: number, from: number): Promise<boolean>;
}

/** Opens `path` for reading its plaintext; an encrypted one needs `keys`. */
export async function openRecordingSource(path: string, keys?: RecordingKeys): Promise<RecordingSource> {
  const file = await Deno.open(path, { read: true });
  try {
    const stored = (await file.stat()).size;
    if (!isAgePath(path)) {
      return { read: (p) => file.read(p), size: stored, encrypted: false, close: () => file.close() };
    }
    if (!keys) throw new RecordingReadError(path, "the recording is encrypted and no identity was given");
    const head = new Uint8Array(Math.min(stored, 64 * 1024));
    let n = 0;
    while (n < head.length) {
      const r = await file.read(head.subarray(n));
      if (r === null) break;
      n += r;
    }
    const end = headerEnd(head.subarray(0, n));
    if (end === null) throw new AgeError("truncated", `${path}: the age header is cut off`);
    await file.seek(0, Deno.SeekMode.Start);
    const plain = (await ageDecrypt(file.readable, await keys.identity())).getReader();
    return new AgeSource(plain, plainSize(stored - end - 16), () => plain.cancel().catch(() => {}));
  } catch (e) {
    try {
      file.close();
    } catch (_e) {
      // the stream may own it already
    }
    if (e instanceof RecordingReadError) throw e;
    throw new RecordingReadError(path, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Plaintext bytes of a payload of `n` stored bytes (after the nonce). */
function plainSize(n: number): number {
  if (n <= TAG) return 0;
  const full = Math.floor(n / SEALED_CHUNK);
  const rest = n % SEALED_CHUNK;
  return full * CHUNK + Math.max(0, rest - TAG);
}

class AgeSource implements RecordingSource {
  readonly encrypted = true;
  #pending: Uint8Array = new Uint8Array(0);
  #done = false;
  constructor(
    private readonly r: ReadableStreamDefaultReader<Uint8Array>,
    readonly size: number,
    private readonly cancel: () => Promise<void>,
  ) {}

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#pending.length === 0) {
      if (this.#done) return null;
      const { done, value } = await this.r.read();
      if (done) this.#done = true;
      else this.#pending = value;
    }
    const n = Math.min(p.length, this.#pending.length);
    p.set(this.#pending.subarray(0, n));
    this.#pending = this.#pending.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.cancel();
  }
}

/** Up to `max` bytes of a recording's plaintext. */
export async function readRecordingPrefix(
  path: string,
  keys: RecordingKeys | undefined,
  max: number,
): Promise<Uint8Array> {
  const src = await openRecordingSource(path, keys);
  try {
    const buf = new Uint8Array(Math.min(max, src.size));
    let n = 0;
    while (n < buf.length) {
      const got = await src.read(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    await src.close();
  }
}

/** A recording's plaintext as a stream (HTTP bodies, exports); the file closes when the stream ends. */
export async function recordingStream(
  path: string,
  keys?: RecordingKeys,
): Promise<ReadableStream<Uint8Array>> {
  const src = await openRecordingSource(path, keys);
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const buf = new Uint8Array(64 * 1024);
      try {
        const n = await src.read(buf);
        if (n === null) {
          await src.close();
          ctrl.close();
        } else ctrl.enqueue(buf.subarray(0, n));
      } catch (e) {
        await src.close();
        ctrl.error(e);
      }
    },
    cancel: () => src.close(),
  });
}

/**
 * Follows a recording that may still be written (`--follow`, the console's live view): read() returns
 * null at the current end, and later calls return what was written since. An encrypted file is followed
 * chunk by chunk (core/age_file.ts AgeFileReader; the writer seals what it has every second).
 */
export async function followRecording(path: string, keys?: RecordingKeys): Promise<RecordingSource> {
  const file = await Deno.open(path, { read: true });
  if (!isAgePath(path)) {
    return {
      read: (p) => file.read(p),
      size: (await file.stat()).size,
      encrypted: false,
      close: () => file.close(),
      async skipToTail(keep, from) {
        const size = (await file.stat()).size;
        const skip = size - from > keep;
        await file.seek(skip ? size - keep : from, Deno.SeekMode.Start);
        return skip;
      },
    };
  }
  try {
    if (!keys) throw new RecordingReadError(path, "the recording is encrypted and no identity was given");
    const follower = new AgeFileReader(file, await keys.identity());
    let pending: Uint8Array = new Uint8Array(0);
    return {
      size: 0,
      encrypted: true,
      async read(p) {
        if (pending.length === 0) pending = await follower.poll();
        if (pending.length === 0) return null;
        const n = Math.min(p.length, pending.length);
        p.set(pending.subarray(0, n));
        pending = pending.subarray(n);
        return n;
      },
      close: () => file.close(),
    };
  } catch (e) {
    file.close();
    throw e;
  }
}
