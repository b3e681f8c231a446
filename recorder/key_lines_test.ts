import assert from "node:assert/strict";
import { KeyLines, MAX_KEY_CHARS, MAX_KEY_LINES } from "./key_lines.ts";

Deno.test("KeyLines: Enter ends a line, Backspace edits, other keys carry no text, the open line last", () => {
  const k = new KeyLines();
  k.add("2026-12-05T10:00:01Z", "notepad<Enter>");
  k.add("2026-12-05T10:00:05Z", "Get-Proces<Backspace>ss<Tab>| sort<Enter><Enter>");
  k.add("2026-12-05T10:00:09Z", "<Ctrl+C><Win+R>cmd");
  assert.deepEqual(k.lines(), [
    { at: "2026-12-05T10:00:01Z", text: "notepad" },
    { at: "2026-12-05T10:00:05Z", text: "Get-Process | sort" },
    { at: "2026-12-05T10:00:09Z", text: "cmd" },
  ]);
  // a literal "<" typed is kept
  const lt = new KeyLines();
  lt.add("t", "a < b<Enter>");
  assert.deepEqual(lt.lines(), [{ at: "t", text: "a < b" }]);
});

Deno.test("KeyLines: bounded in lines and line length", () => {
  const k = new KeyLines();
  for (let i = 0; i < MAX_KEY_LINES + 5; i++) k.add("t", `l${i}<Enter>`);
  assert.equal(k.lines().length, MAX_KEY_LINES);
  assert.equal(k.truncated, true);
  const long = new KeyLines();
  long.add("t", "x".repeat(10_000) + "<Enter>");
  assert.equal(long.lines()[0].text.length, 4096);
  const many = new KeyLines();
  for (let i = 0; i < 100; i++) many.add("t", "y".repeat(4000) + "<Enter>");
  const kept = many.lines();
  assert.ok(kept.reduce((a, l) => a + l.text.length, 0) <= MAX_KEY_CHARS);
  assert.equal(kept.length, Math.floor(MAX_KEY_CHARS / 4000));
  assert.equal(many.truncated, true);
});
