/**
 * Approximate keystroke text from scancodes (set 1) and modifier state, for audit logs. It cannot
 * be exact: the server-side layout, IME and dead keys are unknown. Pure apart from its own state.
 */
import type { InputEvent } from "./input.ts";
import { type KeyboardLayout, layoutFor } from "./keyboard_layouts.ts";

const SPECIAL: ReadonlyMap<number, string> = new Map([
  [0x01, "Esc"],
  [0x0e, "Backspace"],
  [0x0f, "Tab"],
  [0x1c, "Enter"],
  ...Array.from({ length: 10 }, (_, i) => [0x3b + i, `F${i + 1}`] as [number, string]),
  [0x57, "F11"],
  [0x58, "F12"],
  [0x46, "ScrollLock"],
]);

/** Extended (E0-prefixed) keys. */
const EXTENDED: ReadonlyMap<number, string> = new Map([
  [0x1c, "Enter"],
  [0x35, "/"],
  [0x37, "PrtSc"],
  [0x47, "Home"],
  [0x48, "Up"],
  [0x49, "PgUp"],
  [0x4b, "Left"],
  [0x4d, "Right"],
  [0x4f, "End"],
  [0x50, "Down"],
  [0x51, "PgDn"],
  [0x52, "Ins"],
  [0x53, "Del"],
  [0x5d, "Menu"],
]);

/** Keypad: [digit/char with NumLock, navigation name without]. */
const KEYPAD: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0x47, ["7", "Home"]],
  [0x48, ["8", "Up"]],
  [0x49, ["9", "PgUp"]],
  [0x4b, ["4", "Left"]],
  [0x4c, ["5", "Clear"]],
  [0x4d, ["6", "Right"]],
  [0x4f, ["1", "End"]],
  [0x50, ["2", "Down"]],
  [0x51, ["3", "PgDn"]],
  [0x52, ["0", "Ins"]],
  [0x53, [".", "Del"]],
]);
const KEYPAD_OPS: ReadonlyMap<number, string> = new Map([[0x37, "*"], [0x4a, "-"], [0x4e, "+"]]);

const CONTROL_CHARS: ReadonlyMap<number, string> = new Map([
  [0x08, "<Backspace>"],
  [0x09, "<Tab>"],
  [0x0d, "<Enter>"],
  [0x1b, "<Esc>"],
]);

export class KeystrokeTranslator {
  readonly layout: KeyboardLayout;
  /** False when the client's layout is not in the table and US is used instead. */
  readonly exactLayout: boolean;
  #shift = new Set<string>();
  #ctrl = new Set<string>();
  #alt = new Set<string>();
  #win = new Set<string>();
  capsLock = false;
  numLock = false;

  constructor(keyboardLayout = 0x0409) {
    const { layout, exact } = layoutFor(keyboardLayout);
    this.layout = layout;
    this.exactLayout = exact;
  }

  /** Text produced by one input event ("" for releases, mouse, modifiers...). */
  feed(e: InputEvent): string {
    if (e.type === "sync") {
      this.capsLock = (e.toggleFlags & 0x4) !== 0;
      this.numLock = (e.toggleFlags & 0x2) !== 0;
      return "";
    }
    if (e.type === "unicode") {
      if (e.release) return "";
      return CONTROL_CHARS.get(e.code) ??
        (e.code < 0x20 ? `<U+${e.code.toString(16).padStart(4, "0")}>` : String.fromCharCode(e.code));
    }
    if (e.type !== "scancode") return "";
    return this.#key(e.keyCode, e.extended, e.extended1, !e.release);
  }

  /** Convenience: concatenated text of many events. */
  feedAll(events: Iterable<InputEvent>): string {
    let s = "";
    for (const e of events) s += this.feed(e);
    return s;
  }

  #key(sc: number, ext: boolean, ext1: boolean, down: boolean): string {
    const id = `${ext ? "e" : ""}${sc}`;
    const mod = (set: Set<string>) => {
      if (down) set.add(id);
      else set.delete(id);
      return "";
    };
    if (ext1) return down && sc === 0x1d ? "<Pause>" : "";
    if (!ext && (sc === 0x2a || sc === 0x36)) return mod(this.#shift);
    if (sc === 0x1d) return mod(this.#ctrl);
    if (sc === 0x38) return mod(this.#alt);
    if (ext && (sc === 0x5b || sc === 0x5c)) return mod(this.#win);
    if (!down) return "";
    if (!ext && sc === 0x3a) {
      this.capsLock = !this.capsLock;
      return "";
    }
    if (!ext && sc === 0x45) {
      this.numLock = !this.numLock;
      return "";
    }
    const altGr = this.#alt.has("e56") || (this.#ctrl.size > 0 && this.#alt.size > 0);
    if (!ext && altGr) {
      const ch = this.layout.altGr.get(sc);
      if (ch) return ch;
    }
    let name: string | undefined;
    let printable: string | undefined;
    if (ext) name = EXTENDED.get(sc);
    else if (KEYPAD.has(sc)) {
      const [digit, nav] = KEYPAD.get(sc)!;
      if (this.numLock && this.#shift.size === 0) printable = digit;
      else name = nav;
    } else if (KEYPAD_OPS.has(sc)) printable = KEYPAD_OPS.get(sc);
    else if (SPECIAL.has(sc)) name = SPECIAL.get(sc);
    else {
      const pair = this.layout.keys.get(sc);
      if (pair) printable = this.#shifted(pair);
    }
    if (name === "/" && ext) [printable, name] = ["/", undefined];
    const prefix = this.#prefix(printable === undefined);
    if (printable !== undefined) {
      if (!prefix) return printable;
      const pair = ext ? undefined : this.layout.keys.get(sc);
      const label = (pair ? pair[0] : printable).toUpperCase();
      return `<${prefix}${label === " " ? "Space" : label}>`;
    }
    return `<${prefix}${name ?? `Key 0x${sc.toString(16).padStart(2, "0")}${ext ? "e" : ""}`}>`;
  }

  #shifted([lower, upper]: readonly [string, string]): string {
    const shift = this.#shift.size > 0;
    const letter = lower.toUpperCase() === upper && lower !== upper;
    return (letter && this.capsLock) !== shift ? upper : lower;
  }

  /** "Ctrl+Alt+" etc. Shift only prefixes non-printable keys (it already shaped the character). */
  #prefix(includeShift: boolean): string {
    let p = "";
    if (this.#ctrl.size) p += "Ctrl+";
    if (this.#alt.size) p += "Alt+";
    if (this.#win.size) p += "Win+";
    if (includeShift && this.#shift.size) p += "Shift+";
    return p;
  }
}
