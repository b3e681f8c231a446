import assert from "node:assert/strict";
import { CastParseError, CastTail } from "./live_tail.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("CastTail parses a header and events split across chunks", () => {
  const t = new CastTail();
  const text =
    '{"version": 2, "width": 100, "height": 30, "timestamp": 1}\n[0.1, "o", "hel"]\n[0.2, "o", "lo\\r\\n"]\n[0.3, "r", "90x20"]\n';
  const events = [];
  for (let i = 0; i < text.length; i += 7) events.push(...t.push(enc(text.slice(i, i + 7))));
  assert.deepEqual(events, [
    { kind: "header", width: 100, height: 30 },
    { kind: "o", time: 0.1, data: "hel" },
    { kind: "o", time: 0.2, data: "lo\r\n" },
    { kind: "r", time: 0.3, data: "90x20" },
  ]);
});

Deno.test("CastTail keeps a partial line until its newline arrives", () => {
  const t = new CastTail();
  assert.equal(t.push(enc('{"version": 2, "width": 80, "height": 24}\n[1.0, "o", "ab')).length, 1);
  assert.deepEqual(t.push(enc('c"]\n')), [{ kind: "o", time: 1, data: "abc" }]);
});

Deno.test("CastTail decodes a UTF-8 character split between chunks", () => {
  const t = new CastTail();
  t.push(enc('{"version": 2, "width": 80, "height": 24}\n'));
  const bytes = enc('[0.5, "o", "é"]\n');
  const cut = bytes.indexOf(0xc3) + 1;
  assert.deepEqual(t.push(bytes.slice(0, cut)), []);
  assert.deepEqual(t.push(bytes.slice(cut)), [{ kind: "o", time: 0.5, data: "é" }]);
});

Deno.test("CastTail started mid-file skips the first partial line", () => {
  const t = new CastTail({ afterHeader: true, skipPartial: true });
  assert.deepEqual(t.push(enc('o", "x"]\n[2, "o", "y"]\n')), [{ kind: "o", time: 2, data: "y" }]);
});

Deno.test("CastTail rejects a non-asciicast header and malformed events with typed errors", () => {
  assert.throws(
    () => new CastTail().push(enc('{"version": 1}\n')),
    (e) => e instanceof CastParseError && e.code === "bad_header",
  );
  assert.throws(
    () => new CastTail().push(enc("garbage\n")),
    (e) => e instanceof CastParseError && e.code === "bad_header",
  );
  const t = new CastTail();
  t.push(enc('{"version": 2, "width": 80, "height": 24}\n'));
  assert.throws(
    () => t.push(enc('[1, "x", "y"]\n')),
    (e) => e instanceof CastParseError && e.code === "bad_event",
  );
  assert.throws(() => t.push(enc('{"a":1}\n')), (e) => e instanceof CastParseError && e.code === "bad_event");
});
