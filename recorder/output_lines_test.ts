import assert from "node:assert/strict";
import { OUTPUT_LIMITS, OutputLines } from "./output_lines.ts";

Deno.test("OutputLines: escapes removed, CR LF and bare CR, repeats once, split escape sequences", () => {
  const o = new OutputLines();
  o.add(0.5, "\x1b[1;32muser@web1\x1b[0m:~$ ls\r\n");
  o.add(0.6, "ERROR: disk full\r\nERROR: disk full\r\n");
  o.add(1.0, "progress 10%\rprogress 100%\r\n");
  o.add(1.5, "\x1b]0;title\x07done \x1b[3");
  o.add(1.6, "1mred\x1b[0m\r\n");
  o.add(2.0, "half a line");
  assert.deepEqual(o.lines(2.5), [
    { at: 0.5, text: "user@web1:~$ ls" },
    { at: 0.6, text: "ERROR: disk full" },
    { at: 1.0, text: "progress 100%" },
    { at: 1.6, text: "done red" },
    { at: 2.5, text: "half a line" },
  ]);
});

Deno.test("OutputLines: bounded per session", () => {
  const o = new OutputLines();
  for (let i = 0; i < OUTPUT_LIMITS.lines + 100; i++) o.add(i, `line ${i}\n`);
  assert.equal(o.done, true);
  assert.equal(o.lines(0).length, OUTPUT_LIMITS.lines);
  const long = new OutputLines();
  long.add(0, "y".repeat(5000) + "\n");
  assert.equal(long.lines(0)[0].text.length, OUTPUT_LIMITS.lineChars);
});
