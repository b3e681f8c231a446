// Pure parts of `jumphost sessions replay`: parse asciicast v2 lines (header, [time, code, data] events)
// and turn event times into a playback schedule scaled by a speed and with idle gaps capped.
// Parsers are total: a bad line becomes a CastLineError the caller reports and skips.

export interface CastHeader {
  version: 2;
  width: number | null;
  height: number | null;
  timestamp: number | null;
}

export type CastCode = "o" | "i" | "r" | "m";

export interface CastEvent {
  /** seconds since the recording started */
  time: number;
  code: CastCode;
  data: string;
}

export class CastLineError extends Error {
  override name = "CastLineError";
  constructor(readonly code: "not_json" | "not_event" | "bad_header" | "bad_version", message: string) {
    super(message);
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (_e) {
    throw new CastLineError("not_json", "not valid JSON");
  }
}

const dim = (v: unknown) => Number.isInteger(v) && (v as number) > 0 ? v as number : null;

/** The first line of a recording. Throws CastLineError("bad_version") for anything but asciicast v2. */
export function parseCastHeader(line: string): CastHeader {
  const v = parseJson(line);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new CastLineError("bad_header", "the first line is not an asciicast header");
  }
  const o = v as Record<string, unknown>;
  if (o.version !== 2) {
    throw new CastLineError(
      "bad_version",
      `unsupported asciicast version ${JSON.stringify(o.version)} (need 2)`,
    );
  }
  return {
    version: 2,
    width: dim(o.width),
    height: dim(o.height),
    timestamp: typeof o.timestamp === "number" && Number.isFinite(o.timestamp) ? o.timestamp : null,
  };
}

const CODES: readonly string[] = ["o", "i", "r", "m"];

/** One event line. Unknown codes are rejected like malformed lines (the player skips them). */
export function parseCastEvent(line: string): CastEvent {
  const v = parseJson(line);
  if (!Array.isArray(v) || v.length < 3) {
    throw new CastLineError("not_event", "not a [time, code, data] event");
  }
  const [time, code, data] = v;
  if (typeof time !== "number" || !Number.isFinite(time) || time < 0) {
    throw new CastLineError("not_event", "the event time is not a non-negative number");
  }
  if (typeof code !== "string" || !CODES.includes(code)) {
    throw new CastLineError("not_event", `unknown event code ${JSON.stringify(code)}`);
  }
  if (typeof data !== "string") throw new CastLineError("not_event", "the event data is not a string");
  return { time, code: code as CastCode, data };
}

export interface ScheduleOptions {
  /** 2 = twice as fast */
  speed: number;
  /** longest pause kept between two events, in recording seconds; null keeps every pause */
  idleLimit: number | null;
}

/**
 * Playback times of one recording's events. Every event (input and resize too) moves the clock, so a pause
 * is measured between consecutive events as asciinema does; times that go backwards count as no pause.
 */
export class CastSchedule {
  #lastTime = 0;
  #elapsed = 0;

  constructor(private readonly o: ScheduleOptions) {
    if (!(o.speed > 0) || !Number.isFinite(o.speed)) throw new RangeError("speed must be a positive number");
    if (o.idleLimit !== null && !(o.idleLimit >= 0)) throw new RangeError("idle limit must be >= 0");
  }

  /** Milliseconds after the start of playback at which an event recorded at `time` is shown. */
  at(time: number): number {
    const gap = Math.max(0, time - this.#lastTime);
    this.#elapsed += this.o.idleLimit === null ? gap : Math.min(gap, this.o.idleLimit);
    this.#lastTime = Math.max(this.#lastTime, time);
    return (this.#elapsed * 1000) / this.o.speed;
  }
}

/** `--speed` text → factor (0.01 to 1000). */
export function parseSpeed(text: string): number | null {
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const n = Number(text);
  return n >= 0.01 && n <= 1000 ? n : null;
}

/** `--idle-limit` text → seconds (0.01 to 86400), or null for "none" (keep every pause); undefined if bad. */
export function parseIdleLimit(text: string): number | null | undefined {
  if (text === "none") return null;
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0.01 && n <= 86400 ? n : undefined;
}
