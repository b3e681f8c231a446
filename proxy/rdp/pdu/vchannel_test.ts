import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import { sdin } from "./fixtures_built.ts";
import { parseMcsFrame } from "./mcs_domain.ts";
import { concat, hex } from "./reader.ts";
import {
  CHANNEL_FLAG_FIRST,
  CHANNEL_FLAG_LAST,
  CHANNEL_FLAG_SHOW_PROTOCOL,
  ChannelReassembler,
  chunkChannelMessage,
  encodeChannelPdu,
  parseChannelPdu,
} from "./vchannel.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

Deno.test("parseChannelPdu() decodes the 4.4 decrypted channel data", () => {
  // MS-RDPBCGR 4.4: decrypted static virtual channel data for "cliprdr".
  const pdu = parseChannelPdu(hex("08 00 00 00 03 00 00 00 03 00 01 00 00 00 00 00"));
  assert.deepEqual(pdu, {
    length: 8,
    flags: CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST,
    data: hex("03 00 01 00 00 00 00 00"),
  });
  assert.deepEqual(encodeChannelPdu(pdu), hex("08 00 00 00 03 00 00 00 03 00 01 00 00 00 00 00"));
  assert.equal(codeOf(() => parseChannelPdu(hex("08 00 00 00 03 00"))), "truncated");
});

Deno.test("ChannelReassembler joins chunks per channel, interleaved, from real SDin frames", () => {
  const a = Uint8Array.from({ length: 4000 }, (_, i) => i & 0xff);
  const b = Uint8Array.from({ length: 10 }, (_, i) => 100 + i);
  const aChunks = chunkChannelMessage(a, 1600, CHANNEL_FLAG_SHOW_PROTOCOL);
  assert.equal(aChunks.length, 3);
  const frames = [
    sdin(aChunks[0], 1004),
    sdin(chunkChannelMessage(b)[0], 1005),
    sdin(aChunks[1], 1004),
    sdin(aChunks[2], 1004),
  ];
  const r = new ChannelReassembler();
  const out: [number, Uint8Array][] = [];
  for (const f of frames) {
    const pdu = parseMcsFrame(f);
    assert.ok(pdu.type === "sendDataIndication");
    const msg = r.push(pdu.channelId, pdu.userData);
    if (msg) out.push([pdu.channelId, msg]);
  }
  assert.deepEqual(out, [[1005, b], [1004, a]]);
  assert.deepEqual(
    chunkChannelMessage(new Uint8Array(0)),
    [hex("00 00 00 00 03 00 00 00")],
    "empty message is one chunk",
  );
});

Deno.test("ChannelReassembler rejects protocol violations", () => {
  const chunk = (length: number, flags: number, n: number) =>
    encodeChannelPdu({ length, flags, data: new Uint8Array(n) });
  const run = (...chunks: Uint8Array[]) => () => {
    const r = new ChannelReassembler(100);
    for (const c of chunks) r.push(1004, c);
  };
  const cases: [string, () => unknown, string][] = [
    ["middle chunk without FIRST", run(chunk(10, 0, 5)), "invalid"],
    ["FIRST twice", run(chunk(10, 1, 5), chunk(10, 1, 5)), "invalid"],
    ["more data than declared", run(chunk(4, 1, 5)), "length_mismatch"],
    ["LAST short of declared", run(chunk(10, 1, 4), chunk(10, 2, 4)), "length_mismatch"],
    ["length changes", run(chunk(10, 1, 4), chunk(11, 2, 6)), "length_mismatch"],
    ["declared over the bound", run(chunk(101, 1, 4)), "too_large"],
    ["compressed", run(chunk(10, 3 | 0x00200000, 10)), "unsupported"],
  ];
  for (const [name, fn, code] of cases) assert.equal(codeOf(fn), code, name);
  const ok = new ChannelReassembler();
  assert.deepEqual(ok.push(1, concat(hex("02 00 00 00 03 00 00 00"), hex("aa bb"))), hex("aa bb"));
});
