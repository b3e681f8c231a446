/**
 * Scancode (set 1, non-extended) -> character tables per Windows keyboard layout id (CS_CORE
 * keyboardLayout). Add a layout by adding an entry to LAYOUTS; keys absent from a layout fall back
 * to nothing (rendered as <Key 0xNN>).
 */

export interface KeyboardLayout {
  id: number;
  name: string;
  /** scancode -> [unshifted, shifted]. */
  keys: ReadonlyMap<number, readonly [string, string]>;
  /** scancode -> character typed with AltGr (right Alt, or Ctrl+Alt). */
  altGr: ReadonlyMap<number, string>;
}

/** Build a key map from rows: [firstScancode, "unshifted chars", "shifted chars"]. */
function rows(...spec: [number, string, string][]): Map<number, readonly [string, string]> {
  const m = new Map<number, readonly [string, string]>();
  for (const [first, lower, upper] of spec) {
    const lo = [...lower];
    const up = [...upper];
    for (let i = 0; i < lo.length; i++) m.set(first + i, [lo[i], up[i]]);
  }
  return m;
}

const US_ROWS: [number, string, string][] = [
  [0x02, "1234567890-=", "!@#$%^&*()_+"],
  [0x10, "qwertyuiop[]", "QWERTYUIOP{}"],
  [0x1e, "asdfghjkl;'`", 'ASDFGHJKL:"~'],
  [0x2b, "\\zxcvbnm,./", "|ZXCVBNM<>?"],
  [0x39, " ", " "],
];

export const US: KeyboardLayout = { id: 0x0409, name: "US", keys: rows(...US_ROWS), altGr: new Map() };

export const UK: KeyboardLayout = {
  id: 0x0809,
  name: "United Kingdom",
  keys: rows(
    ...US_ROWS,
    [0x02, "123", '!"£'],
    [0x28, "'`", "@¬"],
    [0x2b, "#", "~"],
    [0x56, "\\", "|"],
  ),
  altGr: new Map([[0x05, "€"], [0x29, "¦"]]),
};

export const LAYOUTS: ReadonlyMap<number, KeyboardLayout> = new Map([US, UK].map((l) => [l.id, l]));

/** Layout for a CS_CORE keyboardLayout value; unknown layouts fall back to US (approximate). */
export function layoutFor(keyboardLayout: number): { layout: KeyboardLayout; exact: boolean } {
  const exact = LAYOUTS.get(keyboardLayout) ?? LAYOUTS.get(keyboardLayout & 0xffff);
  return exact ? { layout: exact, exact: true } : { layout: US, exact: false };
}
