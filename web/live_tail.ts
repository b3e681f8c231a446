// Pure incremental parser for an asciicast v2 file that is still being written: feed it bytes as they
// arrive, get back whole events; a partial last line waits for the rest.
export type CastEvent =
  | { kind: "header"; width: number; height: number }
  | { kind: "o" | "i" | "r" | "m"; time: number; data: string };

export class CastParseError extends Error {
  override name = "CastParseError";
  constructor(readonly code: "bad_header" | "bad_event" | "line_too_long", message: string) {
    super(message);
  }
}

const MAX_LINE = 4 * 1024 * 1024;

export class CastTail {
  #dec = new TextDecoder("utf-8", { fatal: false });
  #buf = "";
  #sawHeader: boolean;
  #skipFirst: boolean;

  /**
   * `afterHeader`: the feed starts after the header line; `skipPartial`: it starts mid-line (a tail of a
   * long file), so the first line is incomplete and dropped.
   */
  constructor(opts: { afterHeader?: boolean; skipPartial?: boolean } = {}) {
    this.#sawHeader = opts.afterHeader ?? false;
    this.#skipFirst = opts.skipPartial ?? false;
  }

  push(chunk: Uint8Array): CastEvent[] {
    this.#buf += this.#dec.decode(chunk, { stream: true });
    const out: CastEvent[] = [];
    let nl: number;
    while ((nl = this.#buf.indexOf("\n")) >= 0) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (this.#skipFirst) {
        this.#skipFirst = false;
        continue;
      }
      if (line.trim() === "") continue;
      out.push(this.#parse(line));
    }
    if (this.#buf.length > MAX_LINE) throw new CastParseError("line_too_long", "recording line over 4 MiB");
    return out;
  }

  #parse(line: string): CastEvent {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (_e) {
      throw new CastParseError(this.#sawHeader ? "bad_event" : "bad_header", "recording line is not JSON");
    }
    if (!this.#sawHeader) {
      this.#sawHeader = true;
      const h = v as { version?: unknown; width?: unknown; height?: unknown };
      if (typeof h !== "object" || h === null || h.version !== 2) {
        throw new CastParseError("bad_header", "not an asciicast v2 header");
      }
      const dim = (
        x: unknown,
        d: number,
      ) => (Number.isInteger(x) && (x as number) > 0 && (x as number) <= 10_000 ? x as number : d);
      return { kind: "header", width: dim(h.width, 80), height: dim(h.height, 24) };
    }
    if (
      !Array.isArray(v) || v.length < 3 || typeof v[0] !== "number" || typeof v[2] !== "string" ||
      !["o", "i", "r", "m"].includes(v[1])
    ) {
      throw new CastParseError("bad_event", "malformed asciicast event");
    }
    return { kind: v[1] as "o", time: v[0], data: v[2] };
  }
}
