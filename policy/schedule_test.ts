import assert from "node:assert/strict";
import { formatSchedule, parseSchedule, scheduleState } from "./schedule.ts";
import { PolicyInputError } from "./errors.ts";

const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number) => new Date(ms).toISOString().replace(".000", "");
function state(texts: string[], when: string): string {
  const s = scheduleState(texts.map(parseSchedule), at(when));
  return s.inside ? `until ${iso(s.endMs)}` : "outside";
}

Deno.test("parseSchedule: days, ranges, lists, midnight, 24:00, canonical text", () => {
  assert.equal(
    formatSchedule(parseSchedule("Mon-Fri 08:00-18:00 Europe/Berlin")),
    "Mon,Tue,Wed,Thu,Fri 08:00-18:00 Europe/Berlin",
  );
  assert.equal(formatSchedule(parseSchedule("fri-mon 22:00-02:00 UTC")), "Sun,Mon,Fri,Sat 22:00-02:00 UTC");
  assert.equal(
    formatSchedule(parseSchedule("Saturday,sun 00:00-24:00 America/New_York")),
    "Sun,Sat 00:00-24:00 America/New_York",
  );
  assert.deepEqual(
    parseSchedule(formatSchedule(parseSchedule("Wed 09:30-10:00 Asia/Kolkata"))),
    parseSchedule("Wed 09:30-10:00 Asia/Kolkata"),
  );
});

Deno.test("parseSchedule: malformed schedules are refused with a precise message", () => {
  for (
    const [text, msg] of [
      ["", /is not "DAYS HH:MM-HH:MM ZONE"/],
      ["Mon-Fri 08:00-18:00", /is not "DAYS/],
      ["Mon-Fry 08:00-18:00 UTC", /"Fry" is not a day/],
      ["Mon 8:00-18:00 UTC", /"8:00" is not a time HH:MM/],
      ["Mon 08:00-25:00 UTC", /"25:00" is not a time/],
      ["Mon 24:00-08:00 UTC", /"24:00" is not a time of day/],
      ["Mon 08:00-08:00 UTC", /is empty/],
      ["Mon 08:00-18:00 Mars/Olympus", /not an IANA time zone/],
      ["Mon 08:00-18:00 ../../etc", /not an IANA time zone/],
      ["Mon--Tue 08:00-18:00 UTC", /not a day or a range/],
      ["Mon " + "x".repeat(300), /at most 200 characters/],
    ] as const
  ) {
    assert.throws(
      () => parseSchedule(text),
      (e) => e instanceof PolicyInputError && msg.test(e.message),
      text,
    );
  }
});

Deno.test("scheduleState: inside and outside a weekday window, and a window crossing midnight", () => {
  const berlin = ["Mon-Fri 08:00-18:00 Europe/Berlin"];
  // 2026-12-07 is a Monday; Berlin is UTC+1 in winter
  assert.equal(state(berlin, "2026-12-07T06:59:59Z"), "outside");
  assert.equal(state(berlin, "2026-12-07T07:00:00Z"), "until 2026-12-07T17:00:00Z");
  assert.equal(state(berlin, "2026-12-07T16:59:00Z"), "until 2026-12-07T17:00:00Z");
  assert.equal(state(berlin, "2026-12-07T17:00:00Z"), "outside");
  assert.equal(state(berlin, "2026-12-05T10:00:00Z"), "outside"); // a Saturday
  const night = ["Fri 22:00-02:00 UTC"];
  assert.equal(state(night, "2026-12-04T23:30:00Z"), "until 2026-12-05T02:00:00Z"); // Friday night
  assert.equal(state(night, "2026-12-05T01:59:00Z"), "until 2026-12-05T02:00:00Z"); // Saturday early
  assert.equal(state(night, "2026-12-05T02:00:00Z"), "outside");
  assert.equal(state(night, "2026-12-05T23:00:00Z"), "outside"); // Saturday night: not a start day
});

Deno.test("scheduleState: touching windows run on; every day 00:00-24:00 is always inside (a week ahead at most)", () => {
  assert.equal(
    state(["Mon 08:00-12:00 UTC", "Mon 12:00-14:00 UTC"], "2026-12-07T09:00:00Z"),
    "until 2026-12-07T14:00:00Z",
  );
  const always = scheduleState([parseSchedule("Mon-Sun 00:00-24:00 UTC")], at("2026-12-07T09:00:00Z"));
  assert.ok(always.inside && always.endMs - at("2026-12-07T09:00:00Z") >= 7 * 86_400_000);
});

Deno.test("scheduleState across DST in Europe/Berlin (29 March and 25 October 2026)", () => {
  const w = ["Sun 01:00-04:00 Europe/Berlin"];
  // spring forward: 02:00 CET → 03:00 CEST; the window is 01:00 CET (00:00Z) to 04:00 CEST (02:00Z): 2 hours
  assert.equal(state(w, "2026-03-28T23:59:00Z"), "outside");
  assert.equal(state(w, "2026-03-29T00:00:00Z"), "until 2026-03-29T02:00:00Z");
  assert.equal(state(w, "2026-03-29T01:30:00Z"), "until 2026-03-29T02:00:00Z");
  assert.equal(state(w, "2026-03-29T02:00:00Z"), "outside");
  // fall back: 03:00 CEST → 02:00 CET; 01:00 CEST (23:00Z Sat) to 04:00 CET (03:00Z): 4 hours
  assert.equal(state(w, "2026-10-24T22:59:00Z"), "outside");
  assert.equal(state(w, "2026-10-24T23:00:00Z"), "until 2026-10-25T03:00:00Z");
  assert.equal(state(w, "2026-10-25T00:30:00Z"), "until 2026-10-25T03:00:00Z"); // 02:30 CEST, first pass
  assert.equal(state(w, "2026-10-25T01:30:00Z"), "until 2026-10-25T03:00:00Z"); // 02:30 CET, repeated hour
  assert.equal(state(w, "2026-10-25T03:00:00Z"), "outside");
  // a window ending inside the skipped hour ends when the clocks jump (03:00 CEST = 01:00Z)
  assert.equal(
    state(["Sun 01:00-02:30 Europe/Berlin"], "2026-03-29T00:30:00Z"),
    "until 2026-03-29T01:00:00Z",
  );
  // a window ending inside the repeated hour ends at its first occurrence (02:30 CEST = 00:30Z)
  assert.equal(
    state(["Sun 01:00-02:30 Europe/Berlin"], "2026-10-25T00:00:00Z"),
    "until 2026-10-25T00:30:00Z",
  );
});

Deno.test("scheduleState across DST in America/New_York (8 March and 1 November 2026)", () => {
  const w = ["Sun 00:00-05:00 America/New_York"];
  // spring: 02:00 EST → 03:00 EDT; 00:00 EST (05:00Z) to 05:00 EDT (09:00Z)
  assert.equal(state(w, "2026-03-08T04:59:00Z"), "outside");
  assert.equal(state(w, "2026-03-08T05:00:00Z"), "until 2026-03-08T09:00:00Z");
  assert.equal(state(w, "2026-03-08T08:59:00Z"), "until 2026-03-08T09:00:00Z");
  assert.equal(state(w, "2026-03-08T09:00:00Z"), "outside");
  // fall: 02:00 EDT → 01:00 EST; 00:00 EDT (04:00Z) to 05:00 EST (10:00Z)
  assert.equal(state(w, "2026-11-01T04:00:00Z"), "until 2026-11-01T10:00:00Z");
  assert.equal(state(w, "2026-11-01T06:30:00Z"), "until 2026-11-01T10:00:00Z"); // 01:30 EST, the repeat
  assert.equal(state(w, "2026-11-01T10:00:00Z"), "outside");
  // a weekday window keeps its local hours on both sides of the change
  const office = ["Mon-Fri 09:00-17:00 America/New_York"];
  assert.equal(state(office, "2026-03-06T14:00:00Z"), "until 2026-03-06T22:00:00Z"); // Friday, EST
  assert.equal(state(office, "2026-03-09T13:00:00Z"), "until 2026-03-09T21:00:00Z"); // Monday, EDT
  assert.equal(state(office, "2026-03-09T12:59:00Z"), "outside");
});
