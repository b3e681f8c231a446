// One recording file per TCP connection. The header needs what the MCS connect revealed, so records
// that arrive while the file is being created wait in a small bounded queue; after that the streaming
// writer (recorder/rdp_file.ts) takes over. A recording that fails (disk full, slow disk) is reported
// once and the session goes on.
import { storedRecordingPath } from "../../recorder/recording_file.ts";
import type { RecordingEncryption } from "../../core/recording_identity.ts";
import { dirname } from "node:path";
import {
  openRecordingWriter,
  type RecordingHeader,
  type RecordingWriter,
  type RecordingWriterStats,
  type RecordType,
} from "../../recorder/rdp_file.ts";

const MAX_EARLY_BYTES = 4 * 1024 * 1024;
/** Hard bound of the writer's queue; the relay is slowed down long before (see Relay's throttle). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export class RecordingTap {
  /** the file as stored: the path given, + ".age" when encrypted */
  readonly path: string;
  #writer: RecordingWriter | null = null;
  #opening: Promise<void> | null = null;
  #early: { type: RecordType; payload: Uint8Array; at: number }[] = [];
  #earlyBytes = 0;
  #failed: string | null = null;
  #closed = false;

  constructor(
    private readonly basePath: string,
    private readonly onError: (message: string) => void,
    private readonly clock: () => number = () => performance.now(),
    private readonly encryption: RecordingEncryption | null = null,
  ) {
    this.path = storedRecordingPath(basePath, encryption);
  }

  get failed(): string | null {
    return this.#failed ?? this.#writer?.failed?.message ?? null;
  }
  get started(): boolean {
    return this.#opening !== null;
  }
  /** Bytes accepted but not yet on disk. */
  get pendingBytes(): number {
    return this.#writer ? this.#writer.pendingBytes : this.#earlyBytes;
  }

  /** Resolves once no more than `bytes` wait for the disk (or the recording stopped). */
  async drained(bytes: number): Promise<void> {
    // not started yet: nothing to wait for but time (the early queue is bounded on its own)
    if (!this.#opening) return await new Promise((r) => setTimeout(r, 5));
    if (!this.#writer) await this.#opening;
    if (this.#writer && !this.#failed) await this.#writer.drained(bytes);
  }

  /** Create the file (mode 0600, directories 0700) and write the header. */
  start(header: RecordingHeader): Promise<void> {
    this.#opening ??= (async () => {
      try {
        await Deno.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        const w = await openRecordingWriter(this.basePath, header, {
          encryption: this.encryption,
          clock: this.clock,
          maxPendingBytes: MAX_PENDING_BYTES,
          onError: (e) => this.#fail(`recording stopped: ${e.message}`),
        });
        for (const r of this.#early) w.append(r.type, r.payload, r.at);
        this.#early = [];
        this.#writer = w;
        if (this.#closed) await w.close();
      } catch (e) {
        this.#fail(`cannot create the recording: ${(e as Error).message}`);
      }
    })();
    return this.#opening;
  }

  append(type: RecordType, payload: Uint8Array): void {
    if (this.#failed) return;
    if (this.#writer) {
      this.#writer.append(type, payload);
      return;
    }
    this.#earlyBytes += payload.length;
    if (this.#earlyBytes > MAX_EARLY_BYTES) {
      return this.#fail("recording queue overflow before the file opened");
    }
    this.#early.push({ type, payload: payload.slice(), at: this.clock() });
  }

  /** Flush and close; the file size (0 when nothing was written). */
  async close(): Promise<RecordingWriterStats | null> {
    this.#closed = true;
    await this.#opening;
    if (!this.#writer) return null;
    return await this.#writer.close();
  }

  #fail(message: string): void {
    if (this.#failed) return;
    this.#failed = message;
    this.#early = [];
    this.onError(message);
  }
}
