// A recording's file handle that is given back to the system while the recording is idle.
//
// Why: an idle SSH session holds two sockets and its recording; with thousands of idle sessions per process
// the recordings alone would take a third of the descriptors a process may open (this machine caps a process
// at 20,000). After `idleMs` without a write the handle is closed; the next write opens the file again
// (never creating it: a recording deleted meanwhile fails loudly) at the position where writing stopped.
// Operations run one after another in call order, as Deno.FsFile's do.

/** The subset of Deno.FsFile the recording sinks use. */
export interface RecordingFileHandle {
  write(p: Uint8Array): Promise<number>;
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  truncate(len?: number): Promise<void>;
  close(): void;
}

export class IdleFile implements RecordingFileHandle {
  #file: Deno.FsFile | null;
  #pos = 0;
  #busy = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #chain: Promise<unknown> = Promise.resolve();
  #lastUse = 0;

  /** `file` is the handle that created `path` (already open, at position 0). */
  constructor(readonly path: string, file: Deno.FsFile, readonly idleMs = 30_000) {
    this.#file = file;
    this.#arm();
  }

  /** Whether the handle is open now (for tests and metrics). */
  get open(): boolean {
    return this.#file !== null;
  }

  write(p: Uint8Array): Promise<number> {
    return this.#use(async (f) => {
      const n = await f.write(p);
      this.#pos += n;
      return n;
    });
  }

  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    return this.#use(async (f) => (this.#pos = await f.seek(offset, whence)));
  }

  truncate(len?: number): Promise<void> {
    return this.#use((f) => f.truncate(len));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#file?.close();
    this.#file = null;
  }

  #use<T>(op: (f: Deno.FsFile) => Promise<T>): Promise<T> {
    const run = this.#chain.then(() => this.#run(op));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #run<T>(op: (f: Deno.FsFile) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Deno.errors.BadResource(`recording ${this.path} is closed`);
    this.#busy++;
    try {
      if (this.#file === null) {
        const f = await Deno.open(this.path, { write: true });
        // close() may have run while the file was opening
        if (this.#closed) {
          f.close();
          throw new Deno.errors.BadResource(`recording ${this.path} is closed`);
        }
        if (this.#pos > 0) await f.seek(this.#pos, Deno.SeekMode.Start);
        this.#file = f;
      }
      return await op(this.#file);
    } finally {
      this.#busy--;
      this.#arm();
    }
  }

  /** One timer per file, not one per write: it checks the time of the last use when it fires. */
  #arm(): void {
    this.#lastUse = Date.now();
    if (this.#closed || this.#timer !== null) return;
    this.#timer = setTimeout(() => this.#check(), this.idleMs);
  }

  #check(): void {
    this.#timer = null;
    if (this.#closed) return;
    const idle = Date.now() - this.#lastUse;
    if (this.#busy > 0 || idle < this.idleMs) {
      this.#timer = setTimeout(() => this.#check(), Math.max(1, this.idleMs - idle));
      return;
    }
    this.#file?.close();
    this.#file = null;
  }
}
