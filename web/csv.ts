// RFC 4180 CSV with spreadsheet-formula neutralisation (a cell starting with = + - @ gets a leading ').
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined
    ? ""
    : v instanceof Date
    ? v.toISOString()
    : typeof v === "object"
    ? JSON.stringify(v)
    : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvRow(cells: unknown[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}
