import assert from "node:assert/strict";
import type { InputEvent } from "./input.ts";
import { KeystrokeTranslator } from "./keyboard.ts";

const k = (keyCode: number, release = false, extended = false): InputEvent => ({
  type: "scancode",
  keyCode,
  release,
  extended,
  extended1: false,
});
/** Press and release. */
const tap = (
  keyCode: number,
  extended = false,
): InputEvent[] => [k(keyCode, false, extended), k(keyCode, true, extended)];
const hold = (
  mod: number,
  keys: InputEvent[],
  extended = false,
): InputEvent[] => [k(mod, false, extended), ...keys, k(mod, true, extended)];

const SHIFT = 0x2a;
const CTRL = 0x1d;
const ALT = 0x38;

const cases: [string, InputEvent[], string, number?][] = [
  ["letters and digits", [...tap(0x23), ...tap(0x17), ...tap(0x02), ...tap(0x39)], "hi1 "],
  ["shifted symbols", hold(SHIFT, [...tap(0x23), ...tap(0x02), ...tap(0x28)]), 'H!"'],
  ["caps lock from a sync event", [
    { type: "sync", toggleFlags: 0x4 },
    ...tap(0x1e),
    ...hold(SHIFT, tap(0x1e)),
    ...tap(0x02),
  ], "Aa1"],
  ["caps lock key toggles", [...tap(0x3a), ...tap(0x1e), ...tap(0x3a), ...tap(0x1e)], "Aa"],
  [
    "special keys",
    [...tap(0x1c), ...tap(0x0e), ...tap(0x0f), ...tap(0x01), ...tap(0x3b), ...tap(0x58)],
    "<Enter><Backspace><Tab><Esc><F1><F12>",
  ],
  [
    "extended navigation",
    [...tap(0x48, true), ...tap(0x53, true), ...tap(0x1c, true), ...tap(0x35, true)],
    "<Up><Del><Enter>/",
  ],
  ["ctrl combos", hold(CTRL, [...tap(0x2e), ...tap(0x2f)]), "<Ctrl+C><Ctrl+V>"],
  ["right ctrl counts too", hold(CTRL, tap(0x2e), true), "<Ctrl+C>"],
  ["alt+tab and alt+F4", hold(ALT, [...tap(0x0f), ...tap(0x3e)]), "<Alt+Tab><Alt+F4>"],
  ["ctrl+alt+del", hold(CTRL, hold(ALT, tap(0x53, true))), "<Ctrl+Alt+Del>"],
  ["shift+tab keeps shift on special keys", hold(SHIFT, tap(0x0f)), "<Shift+Tab>"],
  ["keypad follows num lock", [{ type: "sync", toggleFlags: 0x2 }, ...tap(0x4f), ...tap(0x37), {
    type: "sync",
    toggleFlags: 0,
  }, ...tap(0x4f)], "1*<End>"],
  ["unicode events and control chars", [
    { type: "unicode", code: 0x00e9, release: false },
    { type: "unicode", code: 0x00e9, release: true },
    { type: "unicode", code: 0x0d, release: false },
  ], "é<Enter>"],
  [
    "mouse and releases produce nothing",
    [{ type: "mouse", pointerFlags: 0x8000, x: 1, y: 1 }, k(0x1e, true)],
    "",
  ],
  ["unknown scancode", tap(0x70), "<Key 0x70>"],
  ["UK layout: shift+2 and shift+3", hold(SHIFT, [...tap(0x03), ...tap(0x04)]), '"£', 0x0809],
  ["UK layout: AltGr+4 is the euro sign", hold(ALT, tap(0x05), true), "€", 0x0809],
  ["US layout: AltGr is plain Alt", hold(ALT, tap(0x05), true), "<Alt+4>", 0x0409],
];

Deno.test("KeystrokeTranslator renders keystrokes as approximate text", () => {
  for (const [name, events, text, layout] of cases) {
    assert.equal(new KeystrokeTranslator(layout).feedAll(events), text, name);
  }
});

Deno.test("KeystrokeTranslator falls back to US for unknown layouts and says so", () => {
  const t = new KeystrokeTranslator(0x0407);
  assert.equal(t.exactLayout, false);
  assert.equal(t.layout.id, 0x0409);
  assert.equal(new KeystrokeTranslator(0x00000409).exactLayout, true);
  assert.equal(new KeystrokeTranslator(0x00010409).exactLayout, true, "variant ids use the base layout");
});
