import assert from "node:assert/strict";
import {
  CB_ASCII_NAMES,
  CB_CLIP_CAPS,
  CB_FORMAT_DATA_REQUEST,
  CB_FORMAT_DATA_RESPONSE,
  CB_FORMAT_LIST,
  CB_RESPONSE_FAIL,
  CB_RESPONSE_OK,
  CB_USE_LONG_FORMAT_NAMES,
  CF_UNICODETEXT,
  parseClipCapsGeneralFlags,
  parseCliprdrPdu,
  parseFileGroupDescriptorW,
  parseFormatDataRequest,
  parseFormatList,
  parseUnicodeTextResponse,
} from "./cliprdr.ts";
import { RdpParseError } from "./errors.ts";
import { cliprdrMessage as msg, fileDescriptor } from "./fixtures_built.ts";
import { ByteWriter, encodeUtf16, hex } from "./reader.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

Deno.test("clip caps and long format names parse", () => {
  const caps = msg(CB_CLIP_CAPS, 0, hex("01 00 00 00 01 00 0c 00 02 00 00 00 1e 00 00 00"));
  assert.equal(
    parseClipCapsGeneralFlags(parseCliprdrPdu(caps)) & CB_USE_LONG_FORMAT_NAMES,
    CB_USE_LONG_FORMAT_NAMES,
  );
  const list = new ByteWriter(64).u32le(13).u16le(0).u32le(0xc0bc).bytes(
    encodeUtf16("FileGroupDescriptorW\0"),
  ).finish();
  assert.deepEqual(parseFormatList(parseCliprdrPdu(msg(CB_FORMAT_LIST, 0, list)), true), [
    { id: 13, name: "" },
    { id: 0xc0bc, name: "FileGroupDescriptorW" },
  ]);
});

Deno.test("short format names parse as UTF-16 or ASCII per CB_ASCII_NAMES", () => {
  const uni = new Uint8Array(32);
  uni.set(encodeUtf16("HTML Format"));
  const ascii = new Uint8Array(32);
  ascii.set(new TextEncoder().encode("Rich Text Format"));
  const a = parseFormatList(
    parseCliprdrPdu(msg(CB_FORMAT_LIST, 0, new ByteWriter(36).u32le(0xc001).bytes(uni).finish())),
    false,
  );
  const b = parseFormatList(
    parseCliprdrPdu(
      msg(CB_FORMAT_LIST, CB_ASCII_NAMES, new ByteWriter(36).u32le(0xc002).bytes(ascii).finish()),
    ),
    false,
  );
  assert.deepEqual([a, b], [[{ id: 0xc001, name: "HTML Format" }], [{
    id: 0xc002,
    name: "Rich Text Format",
  }]]);
});

Deno.test("format data request/response yield the pasted Unicode text", () => {
  const req = parseCliprdrPdu(msg(CB_FORMAT_DATA_REQUEST, 0, hex("0d 00 00 00")));
  assert.equal(parseFormatDataRequest(req), CF_UNICODETEXT);
  const text = "rm -rf /tmp/x\r\nüñí€ 😀";
  const resp = parseCliprdrPdu(msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_OK, encodeUtf16(text + "\0")));
  assert.equal(parseUnicodeTextResponse(resp), text);
  assert.equal(
    parseUnicodeTextResponse(
      parseCliprdrPdu(msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_FAIL, new Uint8Array(0))),
    ),
    null,
  );
});

Deno.test("parseFileGroupDescriptorW() lists names, sizes and directories", () => {
  const data = new ByteWriter(2000).u32le(3)
    .bytes(fileDescriptor("report.pdf", 123456))
    .bytes(fileDescriptor("big.iso", 5 * 2 ** 32 + 7))
    .bytes(fileDescriptor("photos", 0, true)).finish();
  assert.deepEqual(parseFileGroupDescriptorW(data), [
    { name: "report.pdf", size: 123456, directory: false },
    { name: "big.iso", size: 5 * 2 ** 32 + 7, directory: false },
    { name: "photos", size: 0, directory: true },
  ]);
});

Deno.test("cliprdr parsers reject wrong types and impossible counts", () => {
  const cases: [string, () => unknown, string][] = [
    ["dataLen beyond message", () => parseCliprdrPdu(hex("02 00 00 00 10 00 00 00 01")), "truncated"],
    [
      "list parser on a response",
      () => parseFormatList(parseCliprdrPdu(msg(5, 1, new Uint8Array(0))), true),
      "invalid",
    ],
    [
      "long name without NUL",
      () => parseFormatList(parseCliprdrPdu(msg(2, 0, hex("0d 00 00 00 41 00"))), true),
      "truncated",
    ],
    ["file count beyond data", () => parseFileGroupDescriptorW(hex("02 00 00 00")), "truncated"],
    ["absurd file count", () => parseFileGroupDescriptorW(hex("ff ff ff ff")), "too_large"],
  ];
  for (const [name, fn, code] of cases) assert.equal(codeOf(fn), code, name);
});
