import assert from "node:assert/strict";
import { join } from "node:path";
import { fileResponse, parseRange } from "./range.ts";

Deno.test("parseRange() handles open, closed, suffix and bad ranges", () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: "full" });
  assert.deepEqual(parseRange("bytes=0-", 100), { kind: "partial", start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=10-19", 100), { kind: "partial", start: 10, end: 19 });
  assert.deepEqual(parseRange("bytes=90-200", 100), { kind: "partial", start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-10", 100), { kind: "partial", start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-500", 100), { kind: "partial", start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=100-", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=20-10", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=0-1,5-6", 100), { kind: "full" });
  assert.deepEqual(parseRange("items=0-1", 100), { kind: "full" });
});

Deno.test("fileResponse() serves the requested bytes and closes the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = join(dir, "f.bin");
    const data = new Uint8Array(200_000).map((_, i) => i % 251);
    await Deno.writeFile(p, data);
    const full = await fileResponse(p, "video/mp4", undefined);
    assert.equal(full.status, 200);
    assert.equal((await full.bytes()).length, 200_000);
    const part = await fileResponse(p, "video/mp4", "bytes=70000-140001");
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("Content-Range"), "bytes 70000-140001/200000");
    assert.deepEqual(await part.bytes(), data.subarray(70000, 140002));
    const bad = await fileResponse(p, "video/mp4", "bytes=300000-");
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("Content-Range"), "bytes */200000");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
