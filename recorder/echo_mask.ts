// Pure: which typed input a terminal recording may keep. A terminal echoes what is typed unless the program
// reading it turned echo off — which is what `sudo`, `su`, `passwd`, `ssh` and `mysql -p` do for passwords.
// The proxy cannot see the backend's terminal settings, so it watches for the echo: each run of printable
// keys waits until the output shows it (kept as typed) or a deadline passes without it (kept as one `*` per
// character). A prompt that asks for a secret (".. password: ") masks at once, until Enter. Control keys
// (Enter, arrows, Ctrl-C) are kept: they carry no secret and replays need them. Only the recording waits:
// the relay itself never does.
//
// A control key is a barrier: the echo of keys typed before it must be the first output after them (a pasted
// line is echoed before it runs), so a password's characters showing up in the output of the command it
// unlocked do not count.
//
// Full-screen programs redraw instead of echoing: in vim's normal mode `dd` shows nothing, so it is masked.
// Erring towards masking is the point: a recording may lose a keystroke, never a password.

export interface EchoMaskOptions {
  /** the shortest wait for an echo (ms); it grows with the echo delay seen on this channel */
  minWaitMs?: number;
  maxWaitMs?: number;
}

interface Pending {
  text: string;
  at: number;
  /** printable keys wait for their echo; keys typed at a secret prompt are masked already */
  needsEcho: boolean;
  /** a control key (Enter …) was typed after it: its echo, if any, is the very next output */
  barred?: boolean;
}

const SECRET_PROMPT =
  /(password|passphrase|passcode|pass phrase|\bpin\b|verification code|one-time code|secret|otp)[^\n]{0,40}[:?]\s*$/i;
const MAX_OUTPUT_KEPT = 8192;
const MAX_PENDING = 4096;

/** Strips terminal escape sequences and carriage returns: what is left is the text a user sees. */
export function visibleText(s: string): string {
  return s
    // deno-lint-ignore no-control-regex
    .replace(
      /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]|[\r\x00-\x08\x0e-\x1f\x7f]/g,
      "",
    );
}

/** Splits typed text into runs of printable characters and single control keys (an escape sequence is one). */
export function splitKeys(s: string): { text: string; printable: boolean }[] {
  const out: { text: string; printable: boolean }[] = [];
  // deno-lint-ignore no-control-regex
  const re = /\x1b(\[[0-?]*[ -/]*[@-~]|O.|.)?|[\x00-\x1f\x7f]|[^\x00-\x1f\x7f]+/gs;
  for (const m of s.matchAll(re)) {
    const t = m[0];
    const printable = !/^[\x00-\x1f\x7f]/.test(t);
    out.push({ text: t, printable });
  }
  return out;
}

export class EchoMask {
  #pending: Pending[] = [];
  /** visible output since the oldest pending key was typed */
  #seen = "";
  /** visible tail of the output, for prompts */
  #tail = "";
  /** a prompt asked for a secret: printable keys are masked at once until Enter */
  #secret = false;
  #echoDelay = 50;
  #min: number;
  #max: number;

  constructor(private readonly emit: (text: string) => void, opts: EchoMaskOptions = {}) {
    this.#min = opts.minWaitMs ?? 400;
    this.#max = opts.maxWaitMs ?? 3000;
  }

  /** how long a key waits for its echo now */
  get waitMs(): number {
    return Math.min(this.#max, Math.max(this.#min, 4 * this.#echoDelay));
  }

  /** When the oldest pending key must be decided (ms, the caller's clock), or null. */
  get deadline(): number | null {
    const head = this.#pending[0];
    return head ? head.at + this.waitMs : null;
  }

  typed(text: string, now: number): void {
    for (const k of splitKeys(text)) {
      if (k.printable) {
        this.#queue({ text: this.#secret ? mask(k.text) : k.text, at: now, needsEcho: !this.#secret });
        continue;
      }
      // a control key is a barrier: what the program does with it (a newline, its output) is no echo of
      // the keys before it, so their echo can only be the output that comes first
      for (const p of this.#pending) p.barred = true;
      if (k.text === "\r" || k.text === "\n" || k.text === "\x03") this.#secret = false;
      this.#queue({ text: k.text, at: now, needsEcho: false });
    }
    this.#release(now);
  }

  output(text: string, now: number): void {
    const v = visibleText(text);
    this.#tail = (this.#tail + v).slice(-200);
    if (SECRET_PROMPT.test(this.#tail)) this.#secret = true;
    else if (v.includes("\n")) this.#secret = false;
    if (this.#pending.length) {
      this.#seen = (this.#seen + v).slice(-MAX_OUTPUT_KEPT);
      this.#release(now);
    }
  }

  /** Decides what is due at `now` (call at `deadline`). */
  tick(now: number): void {
    this.#release(now);
  }

  /** The channel ended: keys still waiting for an echo never got one. */
  flush(): void {
    for (const p of this.#pending) this.emit(p.needsEcho ? mask(p.text) : p.text);
    this.#pending = [];
    this.#seen = "";
  }

  #queue(p: Pending): void {
    if (this.#pending.length >= MAX_PENDING) {
      // a flood of keys with no output at all: decide the oldest now, masked
      const head = this.#pending.shift()!;
      this.emit(head.needsEcho ? mask(head.text) : head.text);
    }
    this.#pending.push(p);
  }

  /** Emits the pending keys that are decided, in order. */
  #release(now: number): void {
    while (this.#pending.length) {
      const head = this.#pending[0];
      if (head.needsEcho) {
        const i = head.barred ? (this.#seen.startsWith(head.text) ? 0 : -1) : this.#seen.indexOf(head.text);
        // past a barrier, other output first (sudo's newline, a command's output) means there was no echo
        const otherFirst = head.barred && i < 0 &&
          (this.#seen.length >= head.text.length || this.#seen.includes("\n"));
        if (i >= 0) {
          this.#seen = this.#seen.slice(i + head.text.length);
          this.#echoDelay = 0.8 * this.#echoDelay + 0.2 * Math.max(0, now - head.at);
          this.emit(head.text);
        } else if (otherFirst || now >= head.at + this.waitMs) {
          this.emit(mask(head.text));
        } else return;
      } else this.emit(head.text);
      this.#pending.shift();
      if (!this.#pending.length) this.#seen = "";
    }
  }
}

function mask(s: string): string {
  return "*".repeat([...s].length);
}
