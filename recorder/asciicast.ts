// asciicast v2 writer (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
// `[time, code, data]` line per event. Events stream to disk as they happen through a bounded queue:
// when more than `highWaterBytes` wait for the disk, `full` turns true and the caller pauses its source
// until `drained()` resolves, so a slow disk slows the session a little instead of filling memory.

export interface AsciicastHeader {
  width: number;
  height: number;
  /** unix seconds of the start */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

export class RecordingError extends Error {
  override name = "RecordingError";
  constructor(readonly code: "open_failed" | "write_failed" | "closed", message: string) {
    super(message);
  }
}

/** Pure: the header line. Width/height are clamped to what players accept. */
export function headerLine(h: AsciicastHeader): string {
  const o: Record<string, unknown> = {
    version: 2,
    width: clampDim(h.width, 80),
    height: clampDim(h.height, 24),
    timestamp: Math.floor(h.timestamp),
  };
  if (h.title) o.title = h.title;
  if (h.env && Object.keys(h.env).length) o.env = h.env;
  return JSON.stringify(o) + "\n";
}

function clampDim(v: number, dflt: number): number {
  return Number.isInteger(v) && v > 0 && v <= 10_000 ? v : dflt;
}

/** Pure: one event line; time in seconds with microsecond precision. */
export function eventLine(seconds: number, code: "o" | "i" | "r" | "m", data: string): string {
  return `[${Math.max(0, seconds).toFixed(6)}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]\n`;
}

export interface WriterOptions {
  /** monotonic milliseconds; tests may inject */
  monotonic?: () => number;
  highWaterBytes?: number;
}

export class AsciicastWriter {
  #file: Deno.FsFile;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #size = 0;
  #pumping: Promise<void> | null = null;
  #drainWaiters: (() => void)[] = [];
  #error: RecordingError | null = null;
  #closed = false;
  #start: number;
  #now: () => number;
  #high: number;
  #enc = new TextEncoder();
  // one streaming decoder per direction: a UTF-8 sequence may be split across two SSH packets
  #outDec = new TextDecoder("utf-8", { fatal: false });
  #inDec = new TextDecoder("utf-8", { fatal: false });
  onError: ((e: RecordingError) => void) | null = null;

  private constructor(file: Deno.FsFile, readonly path: string, opts: WriterOptions) {
    this.#file = file;
    this.#now = opts.monotonic ?? (() => performance.now());
    this.#start = this.#now();
    this.#high = opts.highWaterBytes ?? 1 << 20;
  }

  /** Creates the file (mode 0600, must not exist) and writes the header. */
  static async create(
    path: string,
    header: AsciicastHeader,
    opts: WriterOptions = {},
  ): Promise<AsciicastWriter> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    } catch (e) {
      throw new RecordingError("open_failed", `cannot create recording ${path}: ${(e as Error).message}`);
    }
    const w = new AsciicastWriter(file, path, opts);
    w.#push(headerLine(header));
    return w;
  }

  get size(): number {
    return this.#size + this.#queued;
  }
  get full(): boolean {
    return this.#queued > this.#high;
  }
  get error(): RecordingError | null {
    return this.#error;
  }

  /** Resolves when the queue is below the high-water mark again (or the writer failed/closed). */
  drained(): Promise<void> {
    if (!this.full || this.#error || this.#closed) return Promise.resolve();
    return new Promise((r) => this.#drainWaiters.push(r));
  }

  output(data: Uint8Array | string): void {
    const text = typeof data === "string" ? data : this.#outDec.decode(data, { stream: true });
    if (text !== "") this.#event("o", text);
  }

  input(data: Uint8Array | string): void {
    const text = typeof data === "string" ? data : this.#inDec.decode(data, { stream: true });
    if (text !== "") this.#event("i", text);
  }

  resize(cols: number, rows: number): void {
    if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) {
      this.#event("r", `${cols}x${rows}`);
    }
  }

  #event(code: "o" | "i" | "r" | "m", data: string): void {
    if (this.#closed || this.#error) return;
    this.#push(eventLine((this.#now() - this.#start) / 1000, code, data));
  }

  #push(line: string): void {
    const bytes = this.#enc.encode(line);
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#pumping ??= this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#error) {
        const batch = this.#queue.length === 1 ? this.#queue[0] : concat(this.#queue);
        const n = this.#queue.length;
        let off = 0;
        while (off < batch.length) off += await this.#file.write(batch.subarray(off));
        this.#queue.splice(0, n);
        this.#queued -= batch.length;
        this.#size += batch.length;
        if (!this.full) this.#wakeDrain();
      }
    } catch (e) {
      this.#error = new RecordingError("write_failed", `writing ${this.path}: ${(e as Error).message}`);
      this.#queue = [];
      this.#queued = 0;
      this.#wakeDrain();
      this.onError?.(this.#error);
    } finally {
      this.#pumping = null;
    }
  }

  #wakeDrain(): void {
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const r of w) r();
  }

  /** Flushes pending events and closes the file. Returns the final size in bytes. */
  async close(): Promise<number> {
    if (this.#closed) return this.#size;
    const tailOut = this.#outDec.decode();
    if (tailOut) this.#event("o", tailOut);
    const tailIn = this.#inDec.decode();
    if (tailIn) this.#event("i", tailIn);
    while (this.#pumping) await this.#pumping;
    this.#closed = true;
    this.#wakeDrain();
    this.#file.close();
    return this.#size;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
