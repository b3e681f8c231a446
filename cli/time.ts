// Times on the command line: ISO 8601; without a zone they are UTC (printed back in UTC).
import { UsageError } from "./args.ts";

export function parseTime(flag: string, text: string): Date {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    t,
  );
  if (!m) throw new UsageError(`--${flag} "${text}" is not a time (use e.g. 2026-12-01T09:00Z)`);
  const iso = `${m[1]}T${m[2] ?? "00:00"}${m[3] ?? "Z"}`;
  const d = new Date(iso);
  if (isNaN(d.getTime())) throw new UsageError(`--${flag} "${text}" is not a valid time`);
  return d;
}
