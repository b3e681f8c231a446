import assert from "node:assert/strict";
import { parseUtc, reader, withQuery } from "./query.ts";

Deno.test("parseUtc() reads days and minutes as UTC and rejects impossible dates", () => {
  assert.equal(parseUtc("2025-03-01")?.toISOString(), "2025-03-01T00:00:00.000Z");
  assert.equal(parseUtc("2025-03-01", true)?.toISOString(), "2025-03-02T00:00:00.000Z");
  assert.equal(parseUtc("2025-12-31", true)?.toISOString(), "2026-01-01T00:00:00.000Z");
  assert.equal(parseUtc("2025-03-01T13:45")?.toISOString(), "2025-03-01T13:45:00.000Z");
  assert.equal(parseUtc("2025-03-01 13:45:10Z")?.toISOString(), "2025-03-01T13:45:10.000Z");
  for (const bad of ["2025-02-30", "2025-13-01", "yesterday", "2025-03-01T24:00", "", "2025-02-31T10:00"]) {
    assert.equal(parseUtc(bad), null, bad);
  }
});

Deno.test("reader() keeps typed values and reports an error per field", () => {
  const r = reader({ protocol: "telnet", from: "nope", q: " web ", after: "12x" });
  assert.equal(r.oneOf("protocol", ["ssh", "rdp"]), undefined);
  assert.equal(r.date("from"), undefined);
  assert.equal(r.str("q"), "web");
  assert.equal(r.id("after"), undefined);
  assert.deepEqual(Object.keys(r.errors).sort(), ["after", "from", "protocol"]);
  assert.equal(r.values.protocol, "telnet");
});

Deno.test("withQuery() replaces and removes parameters", () => {
  assert.equal(withQuery("/s", { a: "1", b: "x y" }, { b: undefined, after: "5" }), "/s?a=1&after=5");
  assert.equal(withQuery("/s", {}, {}), "/s");
});
