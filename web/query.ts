// Pure parsing of list filters from query strings: every value validated, errors per field for the form.
export type Errors = Record<string, string>;

/** "YYYY-MM-DD" (a UTC day) or "YYYY-MM-DDTHH:MM[:SS]" (UTC). `endOfDay` turns a date into the next midnight. */
export function parseUtc(text: string, endOfDay = false): Date | null {
  const t = text.trim();
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (d) {
    const ms = Date.UTC(+d[1], +d[2] - 1, +d[3] + (endOfDay ? 1 : 0));
    const check = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3]));
    return check.getUTCMonth() === +d[2] - 1 && check.getUTCDate() === +d[3] ? new Date(ms) : null;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?$/.exec(t);
  if (!m) return null;
  const [y, mo, da, h, mi, s] = [+m[1], +m[2], +m[3], +m[4], +m[5], +(m[6] ?? 0)];
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 59) return null;
  const date = new Date(Date.UTC(y, mo - 1, da, h, mi, s));
  return date.getUTCDate() === da ? date : null;
}

export interface Reader {
  values: Record<string, string>;
  errors: Errors;
  str(name: string, max?: number): string | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  date(name: string, endOfDay?: boolean): Date | undefined;
  id(name: string): number | undefined;
}

/** Reads query parameters, remembering raw values (to refill the form) and errors (to show inline). */
export function reader(q: Record<string, string | undefined>): Reader {
  const values: Record<string, string> = {};
  const errors: Errors = {};
  const raw = (name: string) => {
    const v = q[name]?.trim();
    if (v === undefined || v === "") return undefined;
    values[name] = v;
    return v;
  };
  return {
    values,
    errors,
    str(name, max = 200) {
      const v = raw(name);
      if (v !== undefined && v.length > max) {
        errors[name] = `at most ${max} characters`;
        return undefined;
      }
      return v;
    },
    oneOf(name, allowed) {
      const v = raw(name);
      if (v === undefined) return undefined;
      if (!(allowed as readonly string[]).includes(v)) {
        errors[name] = `choose one of ${allowed.join(", ")}`;
        return undefined;
      }
      return v as never;
    },
    date(name, endOfDay = false) {
      const v = raw(name);
      if (v === undefined) return undefined;
      const d = parseUtc(v, endOfDay);
      if (!d) errors[name] = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)";
      return d ?? undefined;
    },
    id(name) {
      const v = raw(name);
      if (v === undefined) return undefined;
      if (!/^\d{1,15}$/.test(v)) {
        errors[name] = "not a valid cursor";
        return undefined;
      }
      return Number(v);
    },
  };
}

/** The current query with some keys replaced (undefined removes), for pager links. */
export function withQuery(
  path: string,
  values: Record<string, string>,
  change: Record<string, string | undefined>,
): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...values, ...change })) if (v !== undefined && v !== "") p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
