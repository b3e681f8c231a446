// Pure: the lines a terminal showed, from an asciicast's output events, for search ("which session printed
// this error"). Escape sequences are removed, a carriage return starts the line over (progress bars keep their
// last state), a line repeated right after itself is kept once, and a session is bounded (OUTPUT_LIMITS):
// the output of `cat` on a huge file must not flood the index.

export interface OutputLine {
  /** seconds from the start of the recording, when the line ended */
  at: number;
  text: string;
}

export const OUTPUT_LIMITS = { lines: 5000, chars: 1 << 20, lineChars: 512 };

// CSI, OSC (to BEL or ST), other two-character escapes
const ESCAPES =
  // deno-lint-ignore no-control-regex
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[ -/]*(?![[\]PX^_])[0-~])/g;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Follows output events into lines; `done` once the session's bound is reached. */
export class OutputLines {
  #lines: OutputLine[] = [];
  #chars = 0;
  #line = "";
  #cr = false;
  #last = "";
  /** an escape sequence cut at a chunk's end, kept for the next chunk */
  #carry = "";

  get done(): boolean {
    return this.#lines.length >= OUTPUT_LIMITS.lines || this.#chars >= OUTPUT_LIMITS.chars;
  }

  add(at: number, data: string): void {
    if (this.done) return;
    let text = this.#carry + data;
    this.#carry = "";
    const esc = text.lastIndexOf("\x1b");
    if (esc >= 0 && esc > text.length - 64 && !completeEscape(text.slice(esc))) {
      this.#carry = text.slice(esc);
      text = text.slice(0, esc);
    }
    text = text.replace(ESCAPES, "").replace(CONTROLS, "");
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.#take(text.slice(from, i));
      from = i + 1;
      if (c === 0x0d) this.#cr = true;
      else {
        this.#cr = false;
        this.#end(at);
        if (this.done) return;
      }
    }
    this.#take(text.slice(from));
  }

  #take(piece: string): void {
    if (piece === "") return;
    // after a bare CR the terminal writes over the line from its start
    if (this.#cr) this.#line = "";
    this.#cr = false;
    if (this.#line.length < OUTPUT_LIMITS.lineChars) {
      this.#line = (this.#line + piece).slice(0, OUTPUT_LIMITS.lineChars);
    }
  }

  #end(at: number): void {
    const text = this.#line.trim();
    this.#line = "";
    if (!text || text === this.#last) return;
    this.#last = text;
    this.#lines.push({ at, text });
    this.#chars += text.length;
  }

  /** the lines so far, the unfinished one included */
  lines(at: number): OutputLine[] {
    const open = this.#line.trim();
    return open && open !== this.#last && !this.done
      ? [...this.#lines, { at, text: open }]
      : [...this.#lines];
  }
}

function completeEscape(s: string): boolean {
  ESCAPES.lastIndex = 0;
  const m = ESCAPES.exec(s);
  return m !== null && m.index === 0;
}
