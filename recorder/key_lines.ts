// Pure: the lines typed on an RDP desktop, from the proxy's keystroke text (proxy/rdp/keystrokes.ts: printable
// characters as typed, other keys as tokens like <Enter>, <Backspace>, <Ctrl+C>), for search. Enter ends a
// line, Backspace removes a character; other keys carry no text. Each line keeps the time of the keystrokes
// that ended it.

export interface KeyLine {
  /** ISO time of the keystroke event that ended (or last extended) the line */
  at: string;
  text: string;
}

const MAX_LINE = 4096;
/** lines kept per session (sessions.metadata carries them, rewritten as the session goes) */
export const MAX_KEY_LINES = 2000;
/** characters kept per session, as for the keystroke text itself (proxy/rdp/meta_events.ts) */
export const MAX_KEY_CHARS = 64 * 1024;
const TOKEN = /<[A-Z][A-Za-z0-9+]*>|[\s\S]/gu;

/** Follows keystroke events into lines: add() each event's text, lines() the result so far. */
export class KeyLines {
  #lines: KeyLine[] = [];
  #chars = 0;
  #line = "";
  #at = "";
  truncated = false;

  add(at: string, text: string): void {
    for (const m of text.matchAll(TOKEN)) {
      const k = m[0];
      if (k === "<Enter>") this.#end(at);
      else if (k === "<Backspace>") this.#line = this.#line.slice(0, -1);
      else if (k === "<Tab>") this.#append(" ", at);
      else if (k.length > 1 && k.startsWith("<") && k.endsWith(">")) continue;
      else if (k >= " ") this.#append(k, at);
    }
  }

  #append(ch: string, at: string): void {
    if (this.#line.length < MAX_LINE) this.#line += ch;
    this.#at = at;
  }

  #end(at: string): void {
    const text = this.#line.trim();
    this.#line = "";
    if (!text) return;
    if (this.#lines.length < MAX_KEY_LINES && this.#chars + text.length <= MAX_KEY_CHARS) {
      this.#lines.push({ at, text });
      this.#chars += text.length;
    } else this.truncated = true;
  }

  /** the finished lines, and the one being typed (if any) as the last */
  lines(): KeyLine[] {
    const open = this.#line.trim();
    return open && this.#lines.length < MAX_KEY_LINES && this.#chars + open.length <= MAX_KEY_CHARS
      ? [...this.#lines, { at: this.#at, text: open }]
      : [...this.#lines];
  }
}
