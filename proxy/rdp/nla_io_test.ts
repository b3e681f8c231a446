import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { RdpProxyError } from "./errors.ts";
import { readExactly } from "./nla_io.ts";

Deno.test("readExactly() returns n bytes split over chunks and puts the rest back", async () => {
  const s = new PassThrough();
  const p = readExactly(s, 4, 1000, "test");
  s.write(Uint8Array.of(0, 0));
  s.write(Uint8Array.of(0, 0, 0x03, 0x00));
  assert.deepEqual(await p, Uint8Array.of(0, 0, 0, 0));
  assert.deepEqual(await readExactly(s, 2, 1000, "rest"), Uint8Array.of(0x03, 0x00));
});

Deno.test("readExactly() fails on close and silence", async () => {
  const closed = new PassThrough();
  const c = readExactly(closed, 4, 1000, "test");
  closed.end(Uint8Array.of(0, 0));
  await assert.rejects(c, (e) => e instanceof RdpProxyError && e.code === "closed");
  const silent = new PassThrough();
  await assert.rejects(
    readExactly(silent, 4, 50, "test"),
    (e) => e instanceof RdpProxyError && e.code === "timeout",
  );
});
