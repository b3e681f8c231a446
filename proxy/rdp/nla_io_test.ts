import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { RdpProxyError } from "./errors.ts";
import { derMessageLength, readDerMessage, readExactly } from "./nla_io.ts";

Deno.test("derMessageLength() reads short and long DER lengths and refuses what is not CredSSP", () => {
  assert.equal(derMessageLength(Uint8Array.of(0x30)), null);
  assert.equal(derMessageLength(Uint8Array.of(0x30, 0x05)), 7);
  assert.equal(derMessageLength(Uint8Array.of(0x30, 0x82, 0x01)), null);
  assert.equal(derMessageLength(Uint8Array.of(0x30, 0x82, 0x01, 0x00)), 260);
  for (const bad of [[0x03, 0x00], [0x30, 0x80], [0x30, 0x84, 1, 0, 0, 0], [0x30, 0x83, 0x10, 0, 0]]) {
    assert.throws(() => derMessageLength(Uint8Array.from(bad)), (e) => e instanceof RdpProxyError);
  }
});

Deno.test("readDerMessage() returns one message split over chunks and puts the rest back", async () => {
  const s = new PassThrough();
  const p = readDerMessage(s, 1000, "test");
  s.write(Uint8Array.of(0x30, 0x03, 1));
  s.write(Uint8Array.of(2, 3, 0x03, 0x00));
  assert.deepEqual(await p, Uint8Array.of(0x30, 0x03, 1, 2, 3));
  const next = await readExactly(s, 2, 1000, "rest");
  assert.deepEqual(next, Uint8Array.of(0x03, 0x00));
});

Deno.test("readDerMessage() fails on garbage, close and silence", async () => {
  const garbage = new PassThrough();
  const g = readDerMessage(garbage, 1000, "test");
  garbage.write(Uint8Array.of(0x16, 0x03));
  await assert.rejects(g, (e) => e instanceof RdpProxyError && e.code === "protocol");
  const closed = new PassThrough();
  const c = readDerMessage(closed, 1000, "test");
  closed.end(Uint8Array.of(0x30, 0x05));
  await assert.rejects(c, (e) => e instanceof RdpProxyError && e.code === "closed");
  const silent = new PassThrough();
  await assert.rejects(
    readDerMessage(silent, 50, "test"),
    (e) => e instanceof RdpProxyError && e.code === "timeout",
  );
});
