// Human tables by default, JSON with --json. Output goes through a writer so tests can capture it.
export interface Out {
  line(text: string): void;
  error(text: string): void;
}

export const stdOut: Out = {
  line: (t) => console.log(t),
  error: (t) => console.error(t),
};

export type Cell = string | number | boolean | null | undefined | Date;

function cellText(v: Cell): string {
  if (v === null || v === undefined) return "-";
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, "Z");
  return String(v);
}

/** Renders rows as an aligned table; control characters are made visible so names cannot forge lines. */
export function table(headers: string[], rows: Cell[][]): string {
  const safe = (s: string) =>
    // deno-lint-ignore no-control-regex -- control characters are exactly what must be made visible
    s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const text = rows.map((r) => r.map((c) => safe(cellText(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(headers.map((h) => h.toUpperCase())), ...text.map(fmt)].join("\n");
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function printList(
  out: Out,
  asJson: boolean,
  headers: string[],
  rows: Cell[][],
  raw: unknown[],
): void {
  if (asJson) out.line(json(raw));
  else if (rows.length === 0) out.line(table(headers, []) + "\n(none)");
  else out.line(table(headers, rows));
}
