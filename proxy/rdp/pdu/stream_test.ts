import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import { SPEC_CONNECT_INITIAL, SPEC_CONNECTION_REQUEST, SPEC_VIRTUAL_CHANNEL_PDU } from "./fixtures_spec.ts";
import { concat, hex } from "./reader.ts";
import { PduStream } from "./stream.ts";
import { encodeFastPathHeader, encodeTpkt, parseTpkt, peekFastPathHeader } from "./tpkt.ts";

/** Fast-path output, 1-byte length 8: one SINGLE bitmap update of 3 bytes. */
const FAST_SHORT = hex("00 08 01 03 00 01 02 03");
/** Fast-path output, 2-byte length 11: one LAST bitmap fragment of 5 bytes. */
const FAST_LONG = hex("00 80 0b 11 05 00 01 02 03 04 05");
/** Fast-path input, numEvents 2 in the header: 'a' down, 'a' up. */
const FAST_INPUT = hex("08 06 00 1e 01 1e");

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

Deno.test("parseTpkt() accepts the spec Connection Request and rejects bad headers", () => {
  assert.equal(parseTpkt(SPEC_CONNECTION_REQUEST).length, 44);
  const cases: [string, Uint8Array, string][] = [
    ["version 2", hex("02 00 00 07 02 f0 80"), "invalid"],
    ["length below 7", hex("03 00 00 04"), "too_large"],
    ["length disagrees", hex("03 00 00 08 02 f0 80"), "length_mismatch"],
    ["3 bytes", hex("03 00 00"), "truncated"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseTpkt(b)), code, name);
});

Deno.test("encodeTpkt() refuses payloads over 65535 bytes", () => {
  assert.deepEqual(encodeTpkt(hex("02 f0 80")), hex("03 00 00 07 02 f0 80"));
  assert.equal(codeOf(() => encodeTpkt(new Uint8Array(65532))), "too_large");
});

Deno.test("peekFastPathHeader() reads 1- and 2-byte lengths and rejects non-fast-path actions", () => {
  assert.deepEqual(peekFastPathHeader(FAST_SHORT), {
    numEventsOrReserved: 0,
    flags: 0,
    length: 8,
    headerLength: 2,
  });
  assert.equal(peekFastPathHeader(FAST_LONG)?.length, 11);
  assert.equal(peekFastPathHeader(hex("00 80")), null, "needs the second length byte");
  assert.equal(peekFastPathHeader(FAST_INPUT)?.numEventsOrReserved, 2);
  assert.equal(peekFastPathHeader(hex("c4 06"))?.flags, 3);
  assert.equal(codeOf(() => peekFastPathHeader(hex("01 08"))), "invalid");
  assert.equal(codeOf(() => peekFastPathHeader(hex("00 02"))), "too_large", "length must exceed the header");
  assert.equal(codeOf(() => peekFastPathHeader(hex("00 80 03"))), "too_large");
  assert.deepEqual(encodeFastPathHeader(0, 6), hex("00 08"));
  assert.deepEqual(encodeFastPathHeader(0, 6, true), hex("00 80 09"));
  assert.equal(codeOf(() => encodeFastPathHeader(0, 0x7ffd)), "too_large");
});

Deno.test("PduStream splits many PDUs from one chunk, in order, with their kinds", () => {
  const all = concat(SPEC_CONNECTION_REQUEST, FAST_SHORT, SPEC_CONNECT_INITIAL, FAST_LONG, FAST_INPUT);
  const frames = new PduStream().push(all);
  assert.deepEqual(frames.map((f) => f.kind), ["tpkt", "fastpath", "tpkt", "fastpath", "fastpath"]);
  assert.deepEqual(frames[2].bytes, SPEC_CONNECT_INITIAL);
  assert.deepEqual(frames[3].bytes, FAST_LONG);
});

Deno.test("PduStream reassembles any chunking, including one byte at a time", () => {
  const all = concat(SPEC_VIRTUAL_CHANNEL_PDU, FAST_LONG, SPEC_CONNECT_INITIAL, FAST_SHORT);
  for (const step of [1, 2, 3, 5, 7, 64, 1000]) {
    const s = new PduStream();
    const got: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += step) {
      got.push(...s.push(all.subarray(i, i + step)).map((f) => f.bytes));
    }
    assert.deepEqual(concat(...got), all, `step ${step}`);
    assert.equal(got.length, 4);
    assert.equal(s.pending, 0);
    s.end();
  }
});

Deno.test("PduStream returns the same frames for random chunkings of many PDUs", () => {
  const pdus = [SPEC_VIRTUAL_CHANNEL_PDU, FAST_LONG, SPEC_CONNECT_INITIAL, FAST_SHORT, FAST_INPUT];
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 200; round++) {
    const want = Array.from({ length: 1 + rand(12) }, () => pdus[rand(pdus.length)]);
    const all = concat(...want);
    const s = new PduStream();
    const got: Uint8Array[] = [];
    for (let i = 0; i < all.length;) {
      const step = 1 + rand(rand(4) === 0 ? 600 : 12);
      got.push(...s.push(all.subarray(i, i + step)).map((f) => f.bytes));
      i += step;
    }
    assert.deepEqual(got, want, `round ${round}`);
    s.end();
  }
});

Deno.test("PduStream hands out frames inside one chunk as views of it, without a copy", () => {
  const chunk = concat(FAST_SHORT, FAST_LONG, FAST_SHORT.subarray(0, 3));
  const s = new PduStream();
  const frames = s.push(chunk);
  assert.equal(frames.length, 2);
  for (const f of frames) assert.equal(f.bytes.buffer, chunk.buffer);
  // the frame split across chunks is joined: only it is copied
  const [last] = s.push(FAST_SHORT.subarray(3));
  assert.deepEqual(last.bytes, FAST_SHORT);
});

Deno.test("PduStream keeps a partial PDU pending and end() reports it", () => {
  const s = new PduStream();
  assert.deepEqual(s.push(SPEC_CONNECT_INITIAL.subarray(0, 100)), []);
  assert.equal(s.pending, 100);
  assert.equal(codeOf(() => s.end()), "truncated");
});

Deno.test("PduStream rejects absurd lengths and unknown first bytes, then stays poisoned", () => {
  const cases: [string, Uint8Array, string][] = [
    ["tpkt length 0", hex("03 00 00 00"), "too_large"],
    ["tpkt length 6", hex("03 00 00 06 00 00"), "too_large"],
    ["fast-path length 1", hex("00 01"), "too_large"],
    ["fast-path 2-byte length 2", hex("00 80 02"), "too_large"],
    ["action bits 2", hex("02 10"), "invalid"],
    ["garbage after a good frame", concat(FAST_SHORT, hex("ff ff")), "invalid"],
  ];
  for (const [name, bytes, code] of cases) {
    const s = new PduStream();
    assert.equal(codeOf(() => s.push(bytes)), code, name);
    assert.equal(codeOf(() => s.push(FAST_SHORT)), code, `${name}: poisoned`);
  }
});
