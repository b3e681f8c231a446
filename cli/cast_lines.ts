// Reads a recording line by line without loading it whole, optionally following it as it grows
// (tail -f: poll at EOF, hand out only complete lines, stop when told the writer is done).

/** Longest line kept; a longer one is dropped (reported as overlong) instead of growing memory. */
export const MAX_LINE_BYTES = 8 << 20;

export type SplitItem = { line: string } | { overlong: number };

/** Pure: bytes in, complete lines out. A partial last line waits for more bytes or `end()`. */
export class LineSplitter {
  #parts: Uint8Array[] = [];
  #pending = 0;
  /** bytes dropped of the current overlong line, or -1 when not skipping */
  #skipping = -1;
  #dec = new TextDecoder();

  constructor(private readonly maxLine = MAX_LINE_BYTES) {}

  push(chunk: Uint8Array): SplitItem[] {
    const out: SplitItem[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, nl));
      out.push(this.#finish());
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
    return out;
  }

  /** The unterminated last line, if any (the file ended without a newline). */
  end(): SplitItem[] {
    return this.#pending > 0 || this.#skipping > 0 ? [this.#finish()] : [];
  }

  #take(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#skipping >= 0) {
      this.#skipping += bytes.length;
      return;
    }
    if (this.#pending + bytes.length > this.maxLine) {
      this.#skipping = this.#pending + bytes.length;
      this.#parts = [];
      this.#pending = 0;
      return;
    }
    this.#parts.push(bytes.slice()); // copy: the caller reuses its read buffer
    this.#pending += bytes.length;
  }

  #finish(): SplitItem {
    if (this.#skipping >= 0) {
      const n = this.#skipping;
      this.#skipping = -1;
      return { overlong: n };
    }
    const joined = new Uint8Array(this.#pending);
    let off = 0;
    for (const p of this.#parts) {
      joined.set(p, off);
      off += p.length;
    }
    this.#parts = [];
    this.#pending = 0;
    return { line: this.#dec.decode(joined).replace(/\r$/, "") };
  }
}

export interface ReadLinesOptions {
  /** at EOF: resolve true to wait for more (follow), false to finish */
  more?: () => Promise<boolean>;
  pollMs?: number;
  /** the writer may still be mid-line at the end: drop an unterminated last line instead of yielding it */
  dropPartialTail?: boolean;
}

/** Yields an open file's lines (and overlong markers) in order; follows it while `more()` says so. */
export async function* readLines(
  file: { read(p: Uint8Array): Promise<number | null> },
  o: ReadLinesOptions = {},
): AsyncGenerator<SplitItem> {
  const split = new LineSplitter();
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await file.read(buf);
    if (n !== null && n > 0) {
      yield* split.push(buf.subarray(0, n));
      continue;
    }
    // EOF. Ask whether to wait, then read once more: bytes written before the writer finished still count.
    const wait = o.more ? await o.more() : false;
    if (!wait) {
      let m: number | null;
      while ((m = await file.read(buf)) !== null && m > 0) yield* split.push(buf.subarray(0, m));
      if (!o.dropPartialTail) yield* split.end();
      return;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
  }
}
