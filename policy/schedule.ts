// Recurring weekly windows on a policy, e.g. "Mon-Fri 08:00-18:00 Europe/Berlin": days, a local time range
// (it may cross midnight: "Fri 22:00-02:00" ends Saturday 02:00) and an IANA time zone. Pure: local times
// are converted with Intl, so DST changes are the zone database's, and `now` is always an argument.
import { PolicyInputError } from "./errors.ts";

export interface WeeklyWindow {
  /** 0 = Sunday … 6 = Saturday: the days a window starts on */
  days: number[];
  /** minutes after local midnight; end 1440 = 24:00; end <= start crosses midnight */
  startMin: number;
  endMin: number;
  zone: string;
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const bad = (msg: string) => new PolicyInputError("invalid_schedule", msg);

const FULL = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function dayIndex(s: string): number {
  const l = s.toLowerCase();
  const i = FULL.findIndex((d) => d === l || d.slice(0, 3) === l);
  if (i < 0) throw bad(`"${s}" is not a day (Mon … Sun)`);
  return i;
}

function minutes(s: string, allow24: boolean): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(s);
  if (!m) throw bad(`"${s}" is not a time HH:MM`);
  const v = Number(m[1]) * 60 + Number(m[2]);
  if (v > 1440 || (v === 1440 && !allow24)) throw bad(`"${s}" is not a time of day`);
  return v;
}

export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*$|^UTC$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses "DAYS HH:MM-HH:MM ZONE"; DAYS is a day, a range (Mon-Fri, Fri-Mon wraps) or a list (Mon,Wed,Fri). */
export function parseSchedule(text: string): WeeklyWindow {
  if (text.length > 200) throw bad("a schedule is at most 200 characters");
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3) {
    throw bad(`"${text}" is not "DAYS HH:MM-HH:MM ZONE" (e.g. "Mon-Fri 08:00-18:00 Europe/Berlin")`);
  }
  const [daysText, range, zone] = parts;
  const days = new Set<number>();
  for (const item of daysText.split(",")) {
    const r = item.split("-");
    if (r.length === 1) days.add(dayIndex(r[0]));
    else if (r.length === 2) {
      const a = dayIndex(r[0]), b = dayIndex(r[1]);
      for (let d = a;; d = (d + 1) % 7) {
        days.add(d);
        if (d === b) break;
      }
    } else throw bad(`"${item}" is not a day or a range of days`);
  }
  const t = range.split("-");
  if (t.length !== 2) throw bad(`"${range}" is not a time range HH:MM-HH:MM`);
  const startMin = minutes(t[0], false), endMin = minutes(t[1], true);
  if (startMin === endMin) throw bad(`"${range}" is empty`);
  if (!isTimeZone(zone)) throw bad(`"${zone}" is not an IANA time zone (e.g. Europe/Berlin, UTC)`);
  return { days: [...days].sort(), startMin, endMin, zone };
}

const pad = (n: number) => String(n).padStart(2, "0");
const hhmm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

/** The canonical text of a window (what is stored and shown). */
export function formatSchedule(w: WeeklyWindow): string {
  const names = w.days.map((d) => DAYS[d][0].toUpperCase() + DAYS[d].slice(1));
  return `${names.join(",")} ${hhmm(w.startMin)}-${hhmm(w.endMin)} ${w.zone}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsAt(ms: number, zone: string) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(ms))) if (x.type !== "literal") p[x.type] = Number(x.value);
  return p as { year: number; month: number; day: number; hour: number; minute: number; second: number };
}

/** Local wall-clock fields of an instant: day of week, minutes after midnight, and the local date. */
function localAt(ms: number, zone: string) {
  const p = partsAt(ms, zone);
  const dateUtc = Date.UTC(p.year, p.month - 1, p.day);
  return { dow: new Date(dateUtc).getUTCDay(), min: p.hour * 60 + p.minute, dateUtc, sec: p.second };
}

/** The zone's offset from UTC at an instant, in ms (local wall clock minus UTC). */
function offsetAt(ms: number, zone: string): number {
  const p = partsAt(ms, zone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a local wall-clock time (a date as UTC midnight ms, plus minutes) happens in `zone`. In a DST
 * gap (a time that does not exist) it is the instant the clocks jump; in a repeated hour, the first.
 */
export function instantOf(dateUtc: number, min: number, zone: string): number {
  const wall = dateUtc + min * 60_000;
  // the offsets in force half a day either side cover any transition near this wall time
  const candidates = [...new Set([offsetAt(wall - 43_200_000, zone), offsetAt(wall + 43_200_000, zone)])]
    .map((off) => wall - off);
  const valid = candidates.filter((t) => t + offsetAt(t, zone) === wall);
  if (valid.length) return Math.min(...valid);
  // a gap: find when the offset changes between the two candidates
  let lo = Math.min(...candidates), hi = Math.max(...candidates);
  const before = offsetAt(lo, zone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return Math.ceil(hi / 1000) * 1000;
}

const DAY = 86_400_000;

/** The end of the window of `w` holding `ms`, or null when `ms` is outside it. */
function windowEndAt(w: WeeklyWindow, ms: number): number | null {
  const l = localAt(ms, w.zone);
  const crosses = w.endMin <= w.startMin;
  if (!crosses) {
    if (w.days.includes(l.dow) && l.min >= w.startMin && l.min < w.endMin) {
      return instantOf(l.dateUtc, w.endMin, w.zone);
    }
    return null;
  }
  if (w.days.includes(l.dow) && l.min >= w.startMin) return instantOf(l.dateUtc + DAY, w.endMin, w.zone);
  if (w.days.includes((l.dow + 6) % 7) && l.min < w.endMin) return instantOf(l.dateUtc, w.endMin, w.zone);
  return null;
}

/**
 * Whether `nowMs` is inside any window, and if so when that stretch of access ends: windows that touch or
 * overlap are followed (Mon-Sun 00:00-24:00 never ends), up to a week ahead.
 */
export function scheduleState(windows: readonly WeeklyWindow[], nowMs: number): { inside: false } | {
  inside: true;
  endMs: number;
} {
  const endOf = (ms: number) => {
    let best: number | null = null;
    for (const w of windows) {
      const e = windowEndAt(w, ms);
      if (e !== null && (best === null || e > best)) best = e;
    }
    return best;
  };
  let end = endOf(nowMs);
  if (end === null) return { inside: false };
  for (let i = 0; i < 16 && end - nowMs < 8 * DAY; i++) {
    const next = endOf(end);
    if (next === null || next <= end) break;
    end = next;
  }
  return { inside: true, endMs: Math.min(end, nowMs + 8 * DAY) };
}
