// Streaming writer for RDP recordings (format in rdp_file_format.ts).
//
// append() never blocks and never throws: it copies the record into a bounded in-memory queue that
// one background loop writes to disk. If the queue would exceed maxPendingBytes (the disk cannot keep
// up) or a write fails (disk full), the writer stops recording, reports the error once through
// onError and returns false from every later append(); the relay keeps running and the caller
// decides what to do (end the session, mark the recording incomplete…).

import { createRecordingFile, type RecordingSink } from "./recording_file.ts";
import type { RecordingEncryption } from "../core/recording_identity.ts";
import {
  encodePreamble,
  MAX_OFFSET_MILLIS,
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  type RecordingHeader,
  RecordType,
} from "./rdp_file_format.ts";

export type RecordingWriteErrorCode = "queue_full" | "io" | "too_large" | "time_overflow";

export class RecordingWriteError extends Error {
  override name = "RecordingWriteError";
  constructor(readonly code: RecordingWriteErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface RecordingWriterOptions {
  /** Bytes accepted but not yet on disk before the writer gives up (default 4 MiB). */
  maxPendingBytes?: number;
  /** Called once when recording stops for good, and for each record rejected as too large. */
  onError?: (err: RecordingWriteError) => void;
  /** Monotonic clock in milliseconds (default performance.now); `at` arguments use the same clock. */
  clock?: () => number;
  /** encrypt at rest (recording_file.ts): the file is `path` + ".age" */
  encryption?: RecordingEncryption | null;
}

export interface RecordingWriterStats {
  bytesWritten: number;
  records: number;
  /** Set when recording stopped early; the file then has no END record. */
  failed: RecordingWriteError | null;
}

export interface RecordingWriter {
  /** Queue one record; `at` defaults to clock(). Returns false when the record was not accepted. */
  append(type: RecordType, payload: Uint8Array, at?: number): boolean;
  readonly pendingBytes: number;
  /** Resolves once no more than `bytes` are pending (at once if so; also when the writer stops). */
  drained(bytes: number): Promise<void>;
  readonly failed: RecordingWriteError | null;
  /** Flush, append END (unless failed) and close the file. Idempotent; never rejects. */
  close(): Promise<RecordingWriterStats>;
}

/**
 * Records are encoded straight into slabs (one copy of each payload, no allocation per record); the
 * unwritten part of the current slab is what one disk write takes. A writer that falls behind gets
 * bigger slabs, so it catches up with fewer, larger writes; a quiet one keeps a small slab.
 */
const SLAB_MIN = 32 << 10;
const SLAB_MAX = 1 << 20;

/** Create `path` (must not exist) with mode 0600 and write the preamble; then stream records. */
export async function openRecordingWriter(
  path: string,
  header: RecordingHeader,
  opts: RecordingWriterOptions = {},
): Promise<RecordingWriter> {
  const preamble = encodePreamble(header); // validate before creating the file
  const { sink } = await createRecordingFile(path, opts.encryption);
  return writerOver(sink, preamble, opts);
}

export type { RecordingSink };

/** Stream a recording into an already open sink (which the writer closes). */
export function createRecordingWriter(
  sink: RecordingSink,
  header: RecordingHeader,
  opts: RecordingWriterOptions = {},
): RecordingWriter {
  return writerOver(sink, encodePreamble(header), opts);
}

function writerOver(
  sink: RecordingSink,
  preamble: Uint8Array,
  opts: RecordingWriterOptions,
): RecordingWriter {
  const clock = opts.clock ?? (() => performance.now());
  return new Writer(sink, preamble, clock, opts.maxPendingBytes ?? 4 << 20, opts.onError);
}

class Writer implements RecordingWriter {
  /** bytes ready for the disk, in order: the preamble, then sealed parts of slabs */
  #queue: Uint8Array[] = [];
  /** the slab records are being encoded into: [#sealed, #fill) is not queued yet */
  #slab: Uint8Array | null = null;
  #fill = 0;
  #sealed = 0;
  #pending = 0;
  #failed: RecordingWriteError | null = null;
  #closed = false;
  #fileOpen = true;
  #running = false;
  #draining: Promise<void> = Promise.resolve();
  #lastOffset = 0;
  #bytesWritten = 0;
  #records = 0;
  #waiters: { bytes: number; resolve: () => void }[] = [];
  #kickQueued = false;
  readonly #start: number;

  constructor(
    readonly file: RecordingSink,
    preamble: Uint8Array,
    readonly clock: () => number,
    readonly maxPending: number,
    readonly onError?: (err: RecordingWriteError) => void,
  ) {
    this.#start = clock();
    this.#enqueue(preamble);
  }

  get pendingBytes(): number {
    return this.#pending;
  }

  get failed(): RecordingWriteError | null {
    return this.#failed;
  }

  drained(bytes: number): Promise<void> {
    if (this.#pending <= bytes || this.#failed || !this.#fileOpen) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  /** Wake whoever waits for the queue to shrink to where it is now (or for good, when stopped). */
  #wake(): void {
    if (this.#waiters.length === 0) return;
    const stopped = this.#failed !== null || !this.#fileOpen;
    const still = [];
    for (const w of this.#waiters) {
      if (stopped || this.#pending <= w.bytes) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  append(type: RecordType, payload: Uint8Array, at?: number): boolean {
    if (this.#closed || this.#failed) return false;
    if (type === RecordType.END) return false; // only close() ends a recording
    if (payload.length > MAX_RECORD_BYTES) {
      this.#report(
        new RecordingWriteError("too_large", `record of ${payload.length} bytes exceeds the limit`),
      );
      return false;
    }
    const offset = Math.max(this.#lastOffset, Math.round((at ?? this.clock()) - this.#start));
    if (offset > MAX_OFFSET_MILLIS) {
      this.#fail(new RecordingWriteError("time_overflow", "recording longer than the u32 millisecond range"));
      return false;
    }
    const size = RECORD_HEADER_BYTES + payload.length;
    if (this.#pending + size > this.maxPending) {
      this.#fail(
        new RecordingWriteError("queue_full", `disk is not keeping up: ${this.#pending} bytes still pending`),
      );
      return false;
    }
    this.#lastOffset = offset;
    this.#encode(type, offset, payload);
    this.#records++;
    return true;
  }

  async close(): Promise<RecordingWriterStats> {
    if (!this.#closed) {
      this.#closed = true;
      if (!this.#failed) {
        const offset = Math.min(
          MAX_OFFSET_MILLIS,
          Math.max(this.#lastOffset, Math.round(this.clock() - this.#start)),
        );
        this.#encode(RecordType.END, offset, new Uint8Array(0));
      }
    }
    while ((this.#unwritten() && !this.#failed) || this.#running) {
      this.#kick();
      await this.#draining;
    }
    await this.#closeFile();
    return { bytesWritten: this.#bytesWritten, records: this.#records, failed: this.#failed };
  }

  #enqueue(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#pending += bytes.length;
    this.#kick();
  }

  /** Copy one record into the current slab (a new one when it does not fit). */
  #encode(type: RecordType, offset: number, payload: Uint8Array): void {
    const size = RECORD_HEADER_BYTES + payload.length;
    if (this.#slab === null || this.#fill + size > this.#slab.length) {
      this.#seal();
      const want = Math.min(SLAB_MAX, Math.max(SLAB_MIN, this.#pending));
      this.#slab = new Uint8Array(Math.max(want, size));
      this.#fill = this.#sealed = 0;
    }
    const at = this.#fill;
    const slab = this.#slab;
    slab[at] = type;
    writeU32(slab, at + 1, offset);
    writeU32(slab, at + 5, payload.length);
    slab.set(payload, at + RECORD_HEADER_BYTES);
    this.#fill += size;
    this.#pending += size;
    this.#kickSoon();
  }

  /**
   * Start writing once the caller's task is done: the relay forwards the frame it just recorded
   * before the file write is even issued (latency), and the records of one read go out in one write.
   */
  #kickSoon(): void {
    if (this.#kickQueued) return;
    this.#kickQueued = true;
    queueMicrotask(() => {
      this.#kickQueued = false;
      this.#kick();
    });
  }

  /** Queue what the current slab holds beyond what is queued already. */
  #seal(): void {
    if (this.#slab === null || this.#fill === this.#sealed) return;
    this.#queue.push(this.#slab.subarray(this.#sealed, this.#fill));
    this.#sealed = this.#fill;
  }

  #unwritten(): boolean {
    return this.#queue.length > 0 || this.#fill > this.#sealed;
  }

  /** Start the write loop unless it runs (or there is nothing to do). */
  #kick(): void {
    if (this.#running || !this.#unwritten() || this.#failed) return;
    this.#running = true;
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    while (true) {
      // Clear the flag in the same turn as the emptiness check, so a record queued right after
      // always finds no loop running and starts one (even if a write failed synchronously).
      if (this.#queue.length === 0) this.#seal();
      if (this.#queue.length === 0 || this.#failed) {
        this.#running = false;
        // an idle session keeps a small slab, and only while it has room for more than a few records
        const slab = this.#slab;
        if (slab && (slab.length > SLAB_MIN || slab.length - this.#fill < SLAB_MIN / 2)) this.#slab = null;
        return;
      }
      const batch = this.#queue.shift()!;
      try {
        let done = 0;
        while (done < batch.length) done += await this.file.write(batch.subarray(done));
      } catch (e) {
        this.#fail(
          new RecordingWriteError("io", `recording write failed: ${(e as Error).message}`, { cause: e }),
        );
        continue; // the check above sees #failed and stops the loop
      }
      this.#pending -= batch.length;
      this.#bytesWritten += batch.length;
      this.#wake();
    }
  }

  #fail(err: RecordingWriteError): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#queue = [];
    this.#slab = null;
    this.#fill = this.#sealed = 0;
    this.#pending = 0;
    this.#report(err);
  }

  #report(err: RecordingWriteError): void {
    const cb = this.onError;
    if (cb) queueMicrotask(() => cb(err)); // never re-enter the caller from inside append()
  }

  async #closeFile(): Promise<void> {
    if (!this.#fileOpen) return;
    this.#fileOpen = false;
    try {
      await this.file.close(); // an encrypted file seals its last chunk here
    } catch (e) {
      this.#fail(
        new RecordingWriteError("io", `recording close failed: ${(e as Error).message}`, { cause: e }),
      );
    }
    this.#wake();
  }
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}
