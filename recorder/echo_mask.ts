// Masks what was typed while the terminal did not echo it (passwords at sudo, su, passwd, `mysql -p`), pure.
//
// The proxy cannot see the backend's termios, so it watches the echo: a terminal that echoes (a cooked tty
// with ECHO, or a shell's line editor) sends typed printable characters straight back; one that does not
// sends nothing, or something else. Each input event is held (only in the recording; the relay is never
// delayed) until that is known:
// - echoed: the first printable characters of output after the input (escape sequences and control
//   characters skipped) are the input's printable characters, in order → kept as typed;
// - anything else arrives first, or nothing within `windowMs` → masked: each printable character becomes
//   `*`; control keys (Enter, Backspace, arrows, Ctrl-C) are kept, they are not secret and show the editing.
// A second signal masks regardless of echo: the output's current line ends in a password prompt
// (`[sudo] password for x:`, `Password:`, `Enter passphrase:` …). Events behind a held input are held too,
// so the recording keeps its order and every event its original time.
// Full-screen programs (vim, less) do not echo keys literally: their keys are masked (errs towards masking).

export type CastCode = "o" | "i" | "r" | "m";

/** an event ready to be written; `at` is the caller's clock (ms) when it happened */
export interface MaskedEvent {
  at: number;
  code: CastCode;
  data: string;
}

/** the mask character for one printable character typed without echo */
export const MASK_CHAR = "*";

/** the marker event before the first masked input of a prompt: players show it on the timeline */
export const MASK_MARKER = "input typed without echo: masked";

/** how long an input event waits for its echo before it is masked (ms) */
export const DEFAULT_ECHO_WINDOW_MS = 1000;

const PROMPT_RE =
  /(pass(word|phrase|code)|\bpin\b|verification code|one-time code|secret)[^\n]{0,80}[:?][\s*]*$/i;
const TAIL_MAX = 200;

/** Pure: whether the output's current line (escape sequences removed) asks for a secret. */
export function isSecretPrompt(line: string): boolean {
  return PROMPT_RE.test(line);
}

type Token = { text: string; printable: boolean };

/** Pure: splits typed input into printable characters and control keys (an escape sequence is one key). */
export function splitKeys(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.codePointAt(i)!;
    const ch = String.fromCodePoint(c);
    if (c === 0x1b) {
      const end = escapeEnd(text, i);
      out.push({ text: text.slice(i, end), printable: false });
      i = end;
      continue;
    }
    out.push({ text: ch, printable: isPrintable(c) });
    i += ch.length;
  }
  return out;
}

function isPrintable(c: number): boolean {
  return c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0);
}

// what isPrintable() refuses
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f-\x9f]/g;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** the index after the escape sequence starting at `i` (CSI, SS3, OSC/DCS to its terminator, or ESC + one) */
function escapeEnd(s: string, i: number): number {
  const n = s[i + 1];
  if (n === undefined) return i + 1;
  if (n === "[") {
    let j = i + 2;
    while (j < s.length && !(s.charCodeAt(j) >= 0x40 && s.charCodeAt(j) <= 0x7e)) j++;
    return Math.min(j + 1, s.length);
  }
  if (n === "O") return Math.min(i + 3, s.length);
  if (n === "]" || n === "P" || n === "_" || n === "^") {
    for (let j = i + 2; j < s.length; j++) {
      if (s[j] === "\x07") return j + 1;
      if (s[j] === "\x1b" && s[j + 1] === "\\") return j + 2;
    }
    return s.length;
  }
  let j = i + 1;
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
  return Math.min(j + 1, s.length);
}

function stripEscapes(s: string): string {
  return splitKeys(s).filter((k) => k.printable).map((k) => k.text).join("");
}

/** Pure: masks the printable characters of typed input, keeping control keys. */
export function maskInput(text: string): string {
  return splitKeys(text).map((t) => t.printable ? MASK_CHAR.repeat([...t.text].length) : t.text).join("");
}

interface Held {
  at: number;
  code: CastCode;
  data: string;
  /** input only: its printable characters, and how many the output echoed so far */
  expect?: string[];
  matched?: number;
  /** input only: undecided until echoed, masked, or timed out */
  decided?: boolean;
  masked?: boolean;
  deadline?: number;
}

/** The decision state of one terminal recording: events in, events in order (masked where due) out. */
export class EchoMask {
  #held: Held[] = [];
  /** the output's current line, escape sequences removed (for the prompt signal) */
  #line = "";
  /** output scanning state across chunks: inside an escape sequence */
  #esc: "" | "esc" | "csi" | "str" | "str_esc" = "";
  /** a marker was written for the current run of masked input (until output with text follows) */
  #marked = false;

  constructor(private readonly windowMs = DEFAULT_ECHO_WINDOW_MS) {}

  /** the earliest time at which tick() decides something, or null */
  get nextDeadline(): number | null {
    let d: number | null = null;
    for (const h of this.#held) {
      if (h.code === "i" && !h.decided && (d === null || h.deadline! < d)) d = h.deadline!;
    }
    return d;
  }

  get holding(): boolean {
    return this.#held.length > 0;
  }

  input(at: number, text: string): MaskedEvent[] {
    const keys = splitKeys(text);
    const expect = keys.filter((k) => k.printable).flatMap((k) => [...k.text]);
    if (expect.length === 0) this.#held.push({ at, code: "i", data: text, decided: true });
    else if (isSecretPrompt(this.#line)) {
      this.#held.push({ at, code: "i", data: maskInput(text), decided: true, masked: true });
    } else {
      this.#held.push({
        at,
        code: "i",
        data: text,
        expect,
        matched: 0,
        decided: false,
        deadline: at + this.windowMs,
      });
    }
    return this.#release();
  }

  output(at: number, text: string): MaskedEvent[] {
    // nothing held means no input awaits its echo (#release stops only at one): only the prompt line is kept
    this.#scan(text, this.#held.length > 0);
    this.#held.push({ at, code: "o", data: text });
    return this.#release();
  }

  other(at: number, code: "r" | "m", data: string): MaskedEvent[] {
    this.#held.push({ at, code, data });
    return this.#release();
  }

  /** decides every input whose window has passed without its echo: masked */
  tick(now: number): MaskedEvent[] {
    for (const h of this.#held) if (h.code === "i" && !h.decided && h.deadline! <= now) this.#mask(h);
    return this.#release();
  }

  /** the end of the recording: what is still undecided is masked */
  flush(): MaskedEvent[] {
    for (const h of this.#held) if (h.code === "i" && !h.decided) this.#mask(h);
    return this.#release();
  }

  #mask(h: Held): void {
    h.decided = true;
    h.masked = true;
    h.data = maskInput(h.data);
  }

  /** one printable character of output: the echo of the first undecided input, or proof that it was not */
  #echo(ch: string): void {
    for (const h of this.#held) {
      if (h.code !== "i" || h.decided) continue;
      if (ch === h.expect![h.matched!]) {
        if (++h.matched! === h.expect!.length) h.decided = true;
        return;
      }
      // a line editor wrapping a long line may write a space of its own between echoed characters
      if (ch === " " && h.matched! > 0) return;
      this.#mask(h);
      // the same character may be the echo of the next input (typed ahead): try it there
    }
  }

  /**
   * a new line in the output before an input's echo began: other output came first (the newline a program
   * prints after a password's Enter, then its output, which may well contain the password's letters)
   */
  #newline(): void {
    for (const h of this.#held) if (h.code === "i" && !h.decided && h.matched === 0) this.#mask(h);
  }

  #release(): MaskedEvent[] {
    const out: MaskedEvent[] = [];
    while (this.#held.length > 0) {
      const h = this.#held[0];
      if (h.code === "i" && !h.decided) break;
      this.#held.shift();
      if (h.masked && !this.#marked) out.push({ at: h.at, code: "m", data: MASK_MARKER });
      if (h.masked) this.#marked = true;
      else if (h.code === "o" && this.#marked && stripEscapes(h.data).trim() !== "") this.#marked = false;
      out.push({ at: h.at, code: h.code, data: h.data });
    }
    return out;
  }

  /**
   * Scans an output chunk: keeps the current line (escape sequences removed) for the prompt signal and, when
   * `echo`, offers each printable character (and line feed) to the held inputs. One pass over UTF-16 code
   * units, the line grown by slices of printable runs: a terminal printing fast costs no allocation per
   * character (this runs on every byte of PTY output).
   */
  #scan(text: string, echo: boolean): void {
    if (!echo && this.#esc === "" && text.indexOf("\x1b") < 0 && text.indexOf("\b") < 0) {
      // the common case of fast output: no escape sequence, nothing to edit, nobody waiting for an echo —
      // the line is what follows the last line break, less control characters (native searches, no loop)
      const cut = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
      const tail = text.slice(Math.max(cut + 1, text.length - 2 * TAIL_MAX)).replace(CONTROL_RE, "");
      const line = cut >= 0 ? tail : this.#line + tail;
      this.#line = line.length > TAIL_MAX ? line.slice(-TAIL_MAX) : line;
      return;
    }
    let line = this.#line;
    let run = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      switch (this.#esc) {
        case "esc":
          if (c === 0x5b) this.#esc = "csi";
          else if (c === 0x5d || c === 0x50 || c === 0x5f || c === 0x5e) this.#esc = "str";
          else if (c >= 0x20 && c <= 0x2f) this.#esc = "esc";
          else {
            this.#esc = "";
            if (isHighSurrogate(c) && isLowSurrogate(text.charCodeAt(i + 1))) i++;
          }
          continue;
        case "csi":
          if (c >= 0x40 && c <= 0x7e) this.#esc = "";
          continue;
        case "str":
          if (c === 0x07) this.#esc = "";
          else if (c === 0x1b) this.#esc = "str_esc";
          continue;
        case "str_esc":
          this.#esc = c === 0x5c ? "" : "str";
          continue;
      }
      if (isPrintable(c)) {
        if (run < 0) run = i;
        if (echo) {
          const pair = isHighSurrogate(c) && isLowSurrogate(text.charCodeAt(i + 1));
          this.#echo(pair ? text.slice(i, i + 2) : text[i]);
          if (pair) i++;
        }
        continue;
      }
      if (run >= 0) {
        line += text.slice(run, i);
        run = -1;
      }
      if (c === 0x1b) this.#esc = "esc";
      else if (c === 0x0d || c === 0x0a) {
        line = "";
        if (c === 0x0a && echo) this.#newline();
      } else if (c === 0x08 && line) line = line.slice(0, -1);
    }
    if (run >= 0) line += text.slice(run);
    this.#line = line.length > TAIL_MAX ? line.slice(-TAIL_MAX) : line;
  }
}
