import assert from "node:assert/strict";
import {
  CastLineError,
  CastSchedule,
  parseCastEvent,
  parseCastHeader,
  parseIdleLimit,
  parseSpeed,
} from "./cast_player.ts";
import { eventLine, headerLine } from "../recorder/asciicast.ts";

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CastLineError, String(e));
    return e.code;
  }
  assert.fail("no error");
};

Deno.test("parseCastHeader() reads what the recorder writes and refuses other versions", () => {
  const h = parseCastHeader(headerLine({ width: 100, height: 30, timestamp: 1_700_000_000.5 }).trim());
  assert.deepEqual(h, { version: 2, width: 100, height: 30, timestamp: 1_700_000_000 });
  assert.deepEqual(parseCastHeader('{"version":2}'), {
    version: 2,
    width: null,
    height: null,
    timestamp: null,
  });
  assert.equal(code(() => parseCastHeader('{"version":3,"term":{}}')), "bad_version");
  assert.equal(code(() => parseCastHeader('[0.1, "o", "x"]')), "bad_header");
  assert.equal(code(() => parseCastHeader("{not json")), "not_json");
});

Deno.test("parseCastEvent() reads the recorder's events, escapes and all", () => {
  assert.deepEqual(parseCastEvent(eventLine(1.25, "o", "a\u001b[1mb\r\n\u00e9").trim()), {
    time: 1.25,
    code: "o",
    data: "a\u001b[1mb\r\n\u00e9",
  });
  assert.deepEqual(parseCastEvent(eventLine(2, "r", "120x40").trim()), {
    time: 2,
    code: "r",
    data: "120x40",
  });
  assert.equal(parseCastEvent('[0.5, "i", "ls\\r", "extra"]').code, "i");
});

Deno.test("parseCastEvent() rejects malformed lines with a typed error, never anything else", () => {
  const bad = [
    "",
    "[",
    "null",
    "{}",
    '[1, "o"]',
    '["1", "o", "x"]',
    '[-1, "o", "x"]',
    '[1e999, "o", "x"]',
    '[1, "x", "data"]',
    '[1, 7, "data"]',
    '[1, "o", 5]',
    '[1, "o", null]',
    '"just a string"',
  ];
  for (const line of bad) {
    assert.ok(["not_json", "not_event"].includes(code(() => parseCastEvent(line))!), line);
  }
});

Deno.test("CastSchedule keeps the recorded timing at speed 1 when pauses are short", () => {
  const s = new CastSchedule({ speed: 1, idleLimit: 2 });
  assert.deepEqual([0.1, 0.5, 1.5, 1.5].map((t) => s.at(t)), [100, 500, 1500, 1500]);
});

Deno.test("CastSchedule divides by the speed and caps every idle gap at the limit", () => {
  const s = new CastSchedule({ speed: 2, idleLimit: 2 });
  // gaps 1, 10 (→2), 0.5, 30 (→2): elapsed 1, 3, 3.5, 5.5 recording seconds, halved
  assert.deepEqual([1, 11, 11.5, 41.5].map((t) => s.at(t)), [500, 1500, 1750, 2750]);
  const none = new CastSchedule({ speed: 10, idleLimit: null });
  assert.deepEqual([1, 61].map((t) => none.at(t)), [100, 6100]);
});

Deno.test("CastSchedule counts input and resize events as time passing, and backwards times as no pause", () => {
  const s = new CastSchedule({ speed: 1, idleLimit: 2 });
  // o@0, i@1.5, o@3: gaps 1.5 and 1.5 are each under the limit (asciinema measures between all events)
  assert.deepEqual([0, 1.5, 3].map((t) => s.at(t)), [0, 1500, 3000]);
  assert.equal(s.at(2), 3000);
  assert.equal(s.at(3.5), 3500);
});

Deno.test("CastSchedule refuses a speed that is not a positive number", () => {
  assert.throws(() => new CastSchedule({ speed: 0, idleLimit: 2 }), RangeError);
  assert.throws(() => new CastSchedule({ speed: NaN, idleLimit: 2 }), RangeError);
  assert.throws(() => new CastSchedule({ speed: 1, idleLimit: -1 }), RangeError);
});

Deno.test("parseSpeed() and parseIdleLimit() take plain decimals in range", () => {
  assert.equal(parseSpeed("10"), 10);
  assert.equal(parseSpeed("0.5"), 0.5);
  for (const bad of ["0", "-1", "abc", "1e3", "2000", ""]) assert.equal(parseSpeed(bad), null, bad);
  assert.equal(parseIdleLimit("2"), 2);
  assert.equal(parseIdleLimit("0.25"), 0.25);
  assert.equal(parseIdleLimit("none"), null);
  for (const bad of ["0", "-2", "x", "100000"]) assert.equal(parseIdleLimit(bad), undefined, bad);
});
