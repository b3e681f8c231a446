import assert from "node:assert/strict";
import { csvCell, csvRow } from "./csv.ts";

Deno.test("csvCell() quotes separators and neutralises formulas", () => {
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell('a,"b"'), '"a,""b"""');
  assert.equal(csvCell("line\nbreak"), '"line\nbreak"');
  assert.equal(csvCell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvCell("-1+1"), "'-1+1");
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(true), "true");
  assert.equal(csvCell(new Date("2025-01-02T03:04:05Z")), "2025-01-02T03:04:05.000Z");
  assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
});

Deno.test("csvRow() joins cells and ends with CRLF", () => {
  assert.equal(csvRow(["a", 1, "b,c"]), 'a,1,"b,c"\r\n');
});
