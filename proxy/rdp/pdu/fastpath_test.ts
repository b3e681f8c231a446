import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import {
  encodeFastPathOutput,
  FASTPATH_FRAGMENT_FIRST,
  FASTPATH_FRAGMENT_LAST,
  FASTPATH_FRAGMENT_NEXT,
  FASTPATH_FRAGMENT_SINGLE,
  FastPathReassembler,
  type FastPathUpdate,
  parseFastPathOutput,
} from "./fastpath_output.ts";
import { buildSlowPathInput, slowKey } from "./fixtures_built.ts";
import { encodeFastPathInput, type InputEvent, parseFastPathInput, parseSlowPathInputPdu } from "./input.ts";
import { hex } from "./reader.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

const upd = (updateCode: number, fragmentation: number, data: number[]): FastPathUpdate => ({
  updateCode,
  fragmentation,
  compression: 0,
  compressionFlags: null,
  data: Uint8Array.from(data),
});

Deno.test("parseFastPathOutput() splits updates with and without compressionFlags", () => {
  // 2-byte length; PTR_POSITION (8, 4 bytes); then a compressed SYNCHRONIZE with compressionFlags 0x21.
  const frame = hex("00 80 10  08 04 00 0a 00 14 00  83 21 02 00 aa bb");
  const pdu = parseFastPathOutput(frame);
  assert.equal(pdu.longLength, true);
  assert.deepEqual(
    pdu.updates.map((u) => [u.updateCode, u.fragmentation, u.compression, u.compressionFlags, u.data.length]),
    [
      [8, 0, 0, null, 4],
      [3, 0, 2, 0x21, 2],
    ],
  );
  assert.deepEqual(encodeFastPathOutput(pdu), frame, "round trip keeps the long length form");
  const short = encodeFastPathOutput({ flags: 0, longLength: false, updates: [upd(1, 0, [1, 2, 3])] });
  assert.deepEqual(short, hex("00 08 01 03 00 01 02 03"));
  assert.deepEqual(parseFastPathOutput(short).updates[0].data, hex("01 02 03"));
});

Deno.test("parseFastPathOutput() rejects encryption, overruns and length disagreements", () => {
  const cases: [string, Uint8Array, string][] = [
    ["encrypted", hex("80 08 01 03 00 01 02 03"), "unsupported"],
    ["size overruns", hex("00 08 01 09 00 01 02 03"), "truncated"],
    ["length field disagrees", hex("00 09 01 03 00 01 02 03"), "length_mismatch"],
    ["slow-path action", hex("03 00 00 08"), "invalid"],
    ["half a size field", hex("00 04 01 03"), "truncated"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseFastPathOutput(b)), code, name);
});

Deno.test("FastPathReassembler joins FIRST/NEXT/LAST and passes SINGLE through", () => {
  const r = new FastPathReassembler();
  assert.deepEqual(r.push(upd(1, FASTPATH_FRAGMENT_SINGLE, [9])), { updateCode: 1, data: hex("09") });
  assert.equal(r.push(upd(1, FASTPATH_FRAGMENT_FIRST, [1, 2])), null);
  assert.equal(r.inProgress, true);
  assert.equal(r.push(upd(1, FASTPATH_FRAGMENT_NEXT, [3])), null);
  assert.deepEqual(r.push(upd(1, FASTPATH_FRAGMENT_LAST, [4, 5])), {
    updateCode: 1,
    data: hex("01 02 03 04 05"),
  });
  assert.equal(r.inProgress, false);
  assert.deepEqual(r.push(upd(11, FASTPATH_FRAGMENT_FIRST, [7])), null);
  assert.deepEqual(r.push(upd(11, FASTPATH_FRAGMENT_LAST, [])), { updateCode: 11, data: hex("07") });
});

Deno.test("FastPathReassembler rejects out-of-order fragments, code changes, compression and oversize", () => {
  const seq = (...steps: FastPathUpdate[]) => () => {
    const r = new FastPathReassembler(4);
    for (const s of steps) r.push(s);
  };
  const cases: [string, () => unknown, string][] = [
    ["LAST without FIRST", seq(upd(1, FASTPATH_FRAGMENT_LAST, [1])), "invalid"],
    ["NEXT without FIRST", seq(upd(1, FASTPATH_FRAGMENT_NEXT, [1])), "invalid"],
    [
      "FIRST twice",
      seq(upd(1, FASTPATH_FRAGMENT_FIRST, [1]), upd(1, FASTPATH_FRAGMENT_FIRST, [1])),
      "invalid",
    ],
    [
      "SINGLE inside",
      seq(upd(1, FASTPATH_FRAGMENT_FIRST, [1]), upd(1, FASTPATH_FRAGMENT_SINGLE, [1])),
      "invalid",
    ],
    [
      "code change",
      seq(upd(1, FASTPATH_FRAGMENT_FIRST, [1]), upd(2, FASTPATH_FRAGMENT_LAST, [1])),
      "invalid",
    ],
    [
      "over maxSize",
      seq(upd(1, FASTPATH_FRAGMENT_FIRST, [1, 2, 3]), upd(1, FASTPATH_FRAGMENT_LAST, [4, 5])),
      "too_large",
    ],
    ["compressed", seq({ ...upd(1, 0, [1]), compression: 2, compressionFlags: 0x21 }), "unsupported"],
  ];
  for (const [name, fn, code] of cases) assert.equal(codeOf(fn), code, name);
});

const events: InputEvent[] = [
  { type: "sync", toggleFlags: 0x6 },
  { type: "scancode", keyCode: 0x1e, release: false, extended: false, extended1: false },
  { type: "scancode", keyCode: 0x48, release: true, extended: true, extended1: false },
  { type: "mouse", pointerFlags: 0x0800, x: 100, y: 200 },
  { type: "mousex", pointerFlags: 0x8001, x: 1, y: 2 },
  { type: "unicode", code: 0x20ac, release: false },
  { type: "relmouse", pointerFlags: 0x0800, dx: -5, dy: 7 },
  { type: "qoe", timestamp: 123456 },
];

Deno.test("fast-path input parses every event type and round-trips", () => {
  const frame = encodeFastPathInput(events);
  assert.equal(frame[0] >> 2, events.length, "numEvents in the header");
  assert.deepEqual(parseFastPathInput(frame).events, events);
  // Spec layout check for two scancodes: header 0x08 (2 events), length 6, 00 1e, 01 1e.
  assert.deepEqual(
    encodeFastPathInput(events.slice(1, 2).concat({ ...events[1], release: true } as InputEvent)),
    hex("08 06 00 1e 01 1e"),
  );
});

Deno.test("fast-path input with numEvents 0 in the header reads the count byte", () => {
  const many = Array.from(
    { length: 20 },
    (_, i): InputEvent => ({
      type: "scancode",
      keyCode: i + 2,
      release: false,
      extended: false,
      extended1: false,
    }),
  );
  const frame = encodeFastPathInput(many);
  assert.equal(frame[0], 0, "header numEvents 0");
  assert.equal(frame[2], 20, "count byte after the 1-byte length");
  assert.deepEqual(parseFastPathInput(frame).events, many);
  assert.deepEqual(parseFastPathInput(hex("00 03 00")).events, [], "count byte 0");
});

Deno.test("fast-path input rejects unknown event codes, leftovers and encryption", () => {
  const cases: [string, Uint8Array, string][] = [
    ["event code 7", hex("04 03 e0"), "unsupported"],
    ["missing keyCode", hex("04 03 00"), "truncated"],
    ["extra byte", hex("04 05 00 1e ff"), "trailing_data"],
    ["encrypted", hex("84 04 00 1e"), "unsupported"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseFastPathInput(b)), code, name);
});

Deno.test("parseSlowPathInputPdu() decodes TS_INPUT_PDU events into the same shape", () => {
  const sync = hex("00 00 00 00 00 00 00 00 04 00 00 00");
  const mouse = hex("00 00 00 00 01 80 00 08 10 00 20 00");
  const userData = buildSlowPathInput([sync, slowKey(0x2a, 0x0000), slowKey(0x1c, 0x0100 | 0x8000), mouse]);
  assert.deepEqual(parseSlowPathInputPdu(userData), [
    { type: "sync", toggleFlags: 4 },
    { type: "scancode", keyCode: 0x2a, release: false, extended: false, extended1: false },
    { type: "scancode", keyCode: 0x1c, release: true, extended: true, extended1: false },
    { type: "mouse", pointerFlags: 0x0800, x: 16, y: 32 },
  ]);
  assert.equal(parseSlowPathInputPdu(hex("0d 00 16 00 ea 03 ea 03 01 00 01 00 00")), null, "not a data PDU");
  assert.equal(
    codeOf(() => parseSlowPathInputPdu(buildSlowPathInput([hex("00 00 00 00 03 00 00 00 00 00 00 00")]))),
    "unsupported",
  );
});
