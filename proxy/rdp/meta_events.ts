// What the RDP proxy learns about a session, as events: written to the recording (META records) as they
// happen and summarised, with caps, into sessions.metadata.

import { KeyLines } from "../../recorder/key_lines.ts";

export type Side = "client" | "server";

export type MetaEvent =
  /** Keystrokes after logon, as approximate text (the client's keyboard layout). */
  | { type: "keys"; at: string; text: string }
  /** Keystrokes before logon: possible credentials, so only their number is kept. */
  | { type: "keys_redacted"; at: string; count: number }
  // "autologon" appears in recordings made before logon was taken from Save Session Info only
  | { type: "logon"; at: string; how: "save_session_info" | "autologon" }
  | { type: "clipboard_text"; at: string; from: Side; text: string; length: number; truncated: boolean }
  | {
    type: "clipboard_files";
    at: string;
    from: Side;
    files: { name: string; size: number | null; directory: boolean }[];
  }
  | { type: "drives"; at: string; devices: { id: number; name: string; type: number }[] }
  | {
    type: "file";
    at: string;
    device: string;
    path: string;
    /** open: opened on a redirected drive; read: server read it (upload); write: server wrote it (download). */
    action: "open" | "read" | "write";
  }
  /** Something the audit could not capture (message too large, unparsable channel data). */
  | { type: "audit_gap"; at: string; channel: string; detail: string }
  | { type: "error_info"; at: string; from: Side; code: number };

const MAX_KEY_TEXT = 64 * 1024;
const MAX_ITEMS = 500;

/** Capped summary of a logical session's events, for sessions.metadata. */
export class MetaSummary {
  keystrokes = "";
  keystrokesTruncated = false;
  keystrokesRedacted = 0;
  /** the same keystrokes as lines with their times, for search (recorder/command_index.ts) */
  keyLines = new KeyLines();
  loggedOnAt: string | null = null;
  clipboard: MetaEvent[] = [];
  files: MetaEvent[] = [];
  drives: MetaEvent[] = [];
  gaps: MetaEvent[] = [];
  dropped = 0;

  add(e: MetaEvent): void {
    switch (e.type) {
      case "keys":
        this.keyLines.add(e.at, e.text);
        if (this.keystrokes.length + e.text.length <= MAX_KEY_TEXT) this.keystrokes += e.text;
        else this.keystrokesTruncated = true;
        break;
      case "keys_redacted":
        this.keystrokesRedacted += e.count;
        break;
      case "logon":
        this.loggedOnAt ??= e.at;
        break;
      case "clipboard_text":
      case "clipboard_files":
        this.#push(this.clipboard, e);
        break;
      case "file":
        this.#push(this.files, e);
        break;
      case "drives":
        this.#push(this.drives, e);
        break;
      case "audit_gap":
        this.#push(this.gaps, e);
        break;
    }
  }

  #push(list: MetaEvent[], e: MetaEvent): void {
    if (list.length < MAX_ITEMS) list.push(e);
    else this.dropped++;
  }

  toJSON(): Record<string, unknown> {
    return {
      keystrokes: this.keystrokes,
      keystrokes_truncated: this.keystrokesTruncated,
      keystrokes_redacted: this.keystrokesRedacted,
      key_lines: this.keyLines.lines(),
      logged_on_at: this.loggedOnAt,
      clipboard: this.clipboard,
      files: this.files,
      drives: this.drives,
      audit_gaps: this.gaps,
      events_dropped: this.dropped,
    };
  }
}
