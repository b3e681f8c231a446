// Strict reader of the Prometheus text format for tests: every line must be well-formed.
import assert from "node:assert/strict";

// One line of the text format: a comment, or NAME{labels} VALUE with properly quoted/escaped label values.
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (?:[-+]?(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?|Inf)|NaN)$/;
const COMMENT =
  /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram))$/;

/** every line well-formed, and each family's samples directly under its TYPE line */
export function parseExposition(text: string): Map<string, number> {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  const values = new Map<string, number>();
  let family = "";
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("#")) {
      assert.match(line, COMMENT);
      family = line.split(" ")[2];
      continue;
    }
    assert.match(line, SAMPLE, `bad sample line: ${line}`);
    const key = line.slice(0, line.lastIndexOf(" "));
    assert.ok(key.startsWith(family), `${key} outside its family ${family}`);
    assert.ok(!values.has(key), `duplicate series ${key}`);
    const v = line.slice(line.lastIndexOf(" ") + 1);
    values.set(key, v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v));
  }
  return values;
}
