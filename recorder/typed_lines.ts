// Pure: the command lines a user typed in a terminal, rebuilt from a recording's input events, for search.
// Line editing is followed where it is unambiguous (Backspace, Ctrl-U, Ctrl-W, Ctrl-C); keys that move the
// cursor or recall history (arrows, Tab) cannot be followed without the shell's state, so a line typed with
// them is kept as far as it is known. Masked keys (recorder/echo_mask.ts: `*`) stay masked; a line of only
// masked keys (a password) is not a command and is left out.

export interface TypedLine {
  /** seconds from the start of the recording, when Enter was pressed */
  at: number;
  text: string;
}

const MAX_LINE = 4096;
const MAX_LINES = 10_000;

/** From asciicast events `[seconds, code, data]`: the lines ended by Enter, in order. */
export function typedLines(events: Iterable<[number, string, string]>): TypedLine[] {
  const out: TypedLine[] = [];
  let line = "";
  for (const [at, code, data] of events) {
    if (code !== "i") continue;
    // deno-lint-ignore no-control-regex
    for (const m of data.matchAll(/\x1b(\[[0-?]*[ -/]*[@-~]|O.|.)?|[\s\S]/g)) {
      const k = m[0];
      if (k === "\r" || k === "\n") {
        const text = line.trim();
        if (text && !/^\**$/.test(text) && out.length < MAX_LINES) out.push({ at, text });
        line = "";
      } else if (k === "\x7f" || k === "\b") line = [...line].slice(0, -1).join("");
      else if (k === "\x15" || k === "\x03") line = "";
      else if (k === "\x17") line = line.replace(/\S+\s*$/, "");
      else if (k.length === 1 && k >= " " || k.length === 1 && k > "\x7f") {
        if (line.length < MAX_LINE) line += k;
      }
      // other control keys and escape sequences: not text
    }
  }
  return out;
}

/**
 * Parses an asciicast v2 file's event lines (the header and bad lines are skipped); with `want`, only the
 * events whose code it accepts — lines written as `[t, "x", …]` with another code are skipped before parsing,
 * which matters for a recording of megabytes of output indexed for its few input events.
 */
export function castEvents(
  text: string,
  want?: (code: string, line: string) => boolean,
): [number, string, string][] {
  const out: [number, string, string][] = [];
  for (const l of text.split("\n").slice(1)) {
    if (!l.startsWith("[")) continue;
    let asked = false;
    if (want) {
      // `[1.234567, "o", …]`: the code is the one-letter string after the first ", "
      const comma = l.indexOf(", ");
      if (comma > 0 && l[comma + 2] === '"' && l[comma + 4] === '"') {
        if (!want(l[comma + 3], l)) continue;
        asked = true;
      }
    }
    try {
      const e = JSON.parse(l);
      if (
        Array.isArray(e) && typeof e[0] === "number" && typeof e[1] === "string" && typeof e[2] === "string"
      ) {
        if (!want || asked || want(e[1], l)) out.push([e[0], e[1], e[2]]);
      }
    } catch (_e) {
      // a torn last line (a killed process): skipped
    }
  }
  return out;
}
