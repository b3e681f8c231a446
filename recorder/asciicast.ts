// asciicast v2 writer (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
// `[time, code, data]` line per event. Events stream to disk as they happen through a bounded queue:
// when more than `highWaterBytes` wait for the disk, `full` turns true and the caller pauses its source
// until `drained()` resolves, so a slow disk slows the session a little instead of filling memory.
// Output chunks less than a millisecond apart in one run of JavaScript (the SSH packets of one socket
// read) become one event: a terminal printing fast costs one JSON line per read, not per packet, and no
// byte or ordering is lost (any other event flushes the pending output first).
// A terminal recording may mask input typed while the terminal did not echo it (`maskUnechoed`, see
// echo_mask.ts): events then pass the mask, which holds them (in order, with their times) until decided.
import { EchoMask, type MaskedEvent } from "./echo_mask.ts";
import { createRecordingFile, type RecordingSink } from "./recording_file.ts";
import type { RecordingEncryption } from "../core/recording_identity.ts";

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

/** input and output chunks smaller than this are recorded after the task that relayed them (#defer) */
const DEFER_BELOW = 4096;

/** output chunks closer than this (ms) to the first pending one may share its event */
const MERGE_MS = 1;

/** Pure: one event line; time in seconds with microsecond precision. */
export function eventLine(seconds: number, code: "o" | "i" | "r" | "m", data: string): string {
  return `[${Math.max(0, seconds).toFixed(6)}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]\n`;
}

export interface WriterOptions {
  /** monotonic milliseconds; tests may inject */
  monotonic?: () => number;
  /**
   * output from a channel without a terminal: bare line feeds become CR LF, as a terminal would show them
   * (no terminal is there to translate; players would otherwise draw a staircase)
   */
  crlf?: boolean;
  highWaterBytes?: number;
  /** a terminal: input typed while it does not echo is written masked (echo_mask.ts); the echo window in ms */
  maskUnechoed?: { windowMs?: number };
  /** encrypt at rest (recording_file.ts): the file is `path` + ".age" */
  encryption?: RecordingEncryption | null;
}

export class AsciicastWriter {
  #file: RecordingSink;
  /** lines waiting for the disk; encoded together when written */
  #queue: string[] = [];
  /** UTF-16 length of the queue: stands in for its bytes in the high-water check (exact for ASCII) */
  #queued = 0;
  /** output decoded but not yet made an event, and when its first chunk came */
  #pendingOut: string[] = [];
  #pendingAt = 0;
  #flushScheduled = false;
  #size = 0;
  #pumping: Promise<void> | null = null;
  #drainWaiters: (() => void)[] = [];
  #error: RecordingError | null = null;
  #closed = false;
  #start: number;
  #now: () => number;
  #high: number;
  #crlf: boolean;
  /** the last output ended in CR: a following LF is already part of a CR LF pair */
  #lastCr = false;
  #enc = new TextEncoder();
  // one streaming decoder per direction: a UTF-8 sequence may be split across two SSH packets
  #outDec = new TextDecoder("utf-8", { fatal: false });
  #inDec = new TextDecoder("utf-8", { fatal: false });
  #mask: EchoMask | null;
  #maskTimer: ReturnType<typeof setTimeout> | null = null;
  /** when #maskTimer fires (clock of #now) */
  #maskDue = 0;
  /** small input/output of the current task, recorded right after it (#defer), with their times */
  #later: { code: "i" | "o"; data: Uint8Array | string; at: number }[] = [];
  #laterTimer: ReturnType<typeof setTimeout> | null = null;
  onError: ((e: RecordingError) => void) | null = null;

  private constructor(file: RecordingSink, readonly path: string, opts: WriterOptions) {
    this.#file = file;
    this.#now = opts.monotonic ?? (() => performance.now());
    this.#start = this.#now();
    this.#high = opts.highWaterBytes ?? 1 << 20;
    this.#crlf = opts.crlf ?? false;
    this.#mask = opts.maskUnechoed ? new EchoMask(opts.maskUnechoed.windowMs) : null;
  }

  /** Creates the file (mode 0600, must not exist; `path` + ".age" when encrypted) and writes the header. */
  static async create(
    path: string,
    header: AsciicastHeader,
    opts: WriterOptions = {},
  ): Promise<AsciicastWriter> {
    let created: { path: string; sink: RecordingSink };
    try {
      created = await createRecordingFile(path, opts.encryption);
    } catch (e) {
      throw new RecordingError("open_failed", `cannot create recording ${path}: ${(e as Error).message}`);
    }
    const w = new AsciicastWriter(created.sink, created.path, opts);
    w.#push(headerLine(header));
    return w;
  }

  /** bytes written, plus those queued (counted in UTF-16 units until written; exact after close()) */
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
    this.#defer("o", data);
  }

  #outputAt(data: Uint8Array | string, at: number): void {
    let text = typeof data === "string" ? data : this.#outDec.decode(data, { stream: true });
    if (text === "" || this.#closed || this.#error) return;
    if (this.#crlf) text = this.#toCrlf(text);
    if (this.#mask) return this.#masked(this.#mask.output(at, text));
    this.#output(text, at);
  }

  /**
   * A keystroke and its echo are relayed first and recorded after the task that relayed them: the work of
   * recording them (decoding, the echo mask, JSON, the file write) would otherwise sit between a keystroke
   * and its echo (bench/ssh echo round trip: ~0.05 ms). Small chunks are copied (the caller's buffer may be
   * reused) and keep the time they arrived; a large one is recorded at once, after those before it.
   */
  #defer(code: "i" | "o", data: Uint8Array | string): void {
    if (this.#closed || this.#error) return;
    const at = this.#now();
    if (data.length >= DEFER_BELOW) {
      this.#catchUp();
      return code === "o" ? this.#outputAt(data, at) : this.#inputAt(data, at);
    }
    const copy = typeof data === "string" ? data : data.slice();
    this.#later.push({ code, data: copy, at });
    this.#queued += copy.length;
    this.#laterTimer ??= setTimeout(() => {
      this.#laterTimer = null;
      this.#catchUp();
    }, 0);
  }

  /** Records what #defer held back, in order; everything else that records calls this first. */
  #catchUp(): void {
    if (this.#laterTimer !== null) clearTimeout(this.#laterTimer);
    this.#laterTimer = null;
    if (this.#later.length === 0) return;
    const later = this.#later;
    this.#later = [];
    for (const e of later) {
      this.#queued -= e.data.length;
      if (e.code === "o") this.#outputAt(e.data, e.at);
      else this.#inputAt(e.data, e.at);
    }
    // what was held back may be all that made the queue full, and the mask may hold it on: say so
    if (!this.full) this.#wakeDrain();
  }

  #output(text: string, now: number): void {
    if (this.#pendingOut.length && now - this.#pendingAt >= MERGE_MS) this.#flushOutput();
    if (!this.#pendingOut.length) this.#pendingAt = now;
    this.#pendingOut.push(text);
    this.#queued += text.length;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flushOutput();
      });
    }
  }

  #toCrlf(text: string): string {
    const first = this.#lastCr && text[0] === "\n" ? "\n" : "";
    this.#lastCr = text.endsWith("\r");
    return first + text.slice(first.length).replace(/(?<!\r)\n/g, "\r\n");
  }

  /** A marker event (asciicast "m"): a note in the recording's timeline, e.g. where content stops being kept. */
  marker(text: string): void {
    this.#catchUp();
    this.#maskedOr("m", text, this.#now());
  }

  input(data: Uint8Array | string): void {
    this.#defer("i", data);
  }

  #inputAt(data: Uint8Array | string, at: number): void {
    const text = typeof data === "string" ? data : this.#inDec.decode(data, { stream: true });
    if (text !== "") this.#maskedOr("i", text, at);
  }

  resize(cols: number, rows: number): void {
    this.#catchUp();
    if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) {
      this.#maskedOr("r", `${cols}x${rows}`, this.#now());
    }
  }

  #maskedOr(code: "i" | "r" | "m", data: string, at: number): void {
    if (!this.#mask) return this.#event(code, data, at);
    if (this.#closed || this.#error) return;
    this.#masked(code === "i" ? this.#mask.input(at, data) : this.#mask.other(at, code, data));
  }

  /** writes what the mask released, and wakes it when its next undecided input times out */
  #masked(events: MaskedEvent[]): void {
    for (const e of events) {
      if (e.code === "o") this.#output(e.data, e.at);
      else this.#event(e.code, e.data, e.at);
    }
    const due = this.#mask?.nextDeadline ?? null;
    if (this.#mask === null || this.#closed) return this.#stopMaskTimer();
    // a timer already due no later stays: it wakes the mask, which arms the next one. Re-arming at every
    // keystroke and echo cost more than the keystroke's own relaying (bench/ssh echo profile)
    if (due === null || (this.#maskTimer !== null && this.#maskDue <= due)) return;
    this.#stopMaskTimer();
    this.#maskDue = due;
    this.#maskTimer = setTimeout(() => {
      this.#maskTimer = null;
      this.#catchUp(); // an echo still held back decides its input before the window is judged
      if (this.#mask) this.#masked(this.#mask.tick(this.#now()));
    }, Math.max(0, due - this.#now()) + 1);
  }

  #stopMaskTimer(): void {
    if (this.#maskTimer !== null) clearTimeout(this.#maskTimer);
    this.#maskTimer = null;
  }

  #flushOutput(): void {
    if (!this.#pendingOut.length) return;
    const text = this.#pendingOut.length === 1 ? this.#pendingOut[0] : this.#pendingOut.join("");
    this.#pendingOut = [];
    this.#queued -= text.length;
    if (this.#closed || this.#error) return;
    this.#push(eventLine((this.#pendingAt - this.#start) / 1000, "o", text));
  }

  #event(code: "o" | "i" | "r" | "m", data: string, at = this.#now()): void {
    if (this.#closed || this.#error) return;
    this.#flushOutput();
    this.#push(eventLine((at - this.#start) / 1000, code, data));
  }

  #push(line: string): void {
    this.#queue.push(line);
    this.#queued += line.length;
    // written as soon as queued (keystrokes are already queued after their relaying task, #defer): a further
    // delay (tried, 20 ms) did not shorten the echo round trip, and a reader could miss the last batch
    this.#pumping ??= this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#error) {
        const n = this.#queue.length;
        const chars = this.#queue.reduce((a, l) => a + l.length, 0);
        const batch = this.#enc.encode(n === 1 ? this.#queue[0] : this.#queue.join(""));
        let off = 0;
        while (off < batch.length) off += await this.#file.write(batch.subarray(off));
        this.#queue.splice(0, n);
        this.#queued -= chars;
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
    this.#catchUp();
    const tailOut = this.#outDec.decode();
    if (tailOut) this.#outputAt(tailOut, this.#now());
    this.#flushOutput();
    const tailIn = this.#inDec.decode();
    if (tailIn) this.#maskedOr("i", tailIn, this.#now());
    if (this.#mask) {
      const rest = this.#mask.flush();
      this.#mask = null; // no timer after this
      this.#masked(rest);
    }
    this.#flushOutput();
    while (this.#pumping || this.#queue.length > 0) {
      this.#pumping ??= this.#pump();
      await this.#pumping;
      if (this.#error) break;
    }
    this.#closed = true;
    this.#wakeDrain();
    try {
      await this.#file.close(); // an encrypted file seals its last chunk here
    } catch (e) {
      this.#error ??= new RecordingError("write_failed", `closing ${this.path}: ${(e as Error).message}`);
      this.onError?.(this.#error);
    }
    return this.#size;
  }
}
