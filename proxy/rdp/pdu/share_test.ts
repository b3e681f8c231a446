import assert from "node:assert/strict";
import {
  encodeSetErrorInfoFrame,
  ERRINFO_SERVER_DENIED_CONNECTION,
  parseSetErrorInfo,
} from "./error_info.ts";
import { RdpParseError } from "./errors.ts";
import { buildDemandActive } from "./fixtures_built.ts";
import { parseMcsFrame } from "./mcs_domain.ts";
import { concat, hex } from "./reader.ts";
import {
  encodeSharePdu,
  isDeactivateAll,
  parseSecurityHeader,
  parseShareControlPdu,
  parseShareControlPdus,
  parseShareDataHeader,
  PDUTYPE_DEACTIVATEALLPDU,
  PDUTYPE_DEMANDACTIVEPDU,
} from "./share.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

/** MS-RDPBCGR 4.1.19 Server Synchronize PDU, the decrypted TS_SYNCHRONIZE_PDU of the trace. */
const SPEC_SYNCHRONIZE = hex("16 00 17 00 ea 03 ea 03 01 00 14 00 16 00 1f 00 00 00 01 00 63 44");
/** Deactivate All: shareId, lengthSourceDescriptor 1, sourceDescriptor 0. */
const DEACTIVATE_ALL = hex("0d 00 16 00 ea 03 ea 03 01 00 01 00 00");

Deno.test("Share Control and Share Data headers decode the 4.1.19 Synchronize PDU", () => {
  const sc = parseShareControlPdu(SPEC_SYNCHRONIZE);
  assert.deepEqual([sc.totalLength, sc.pduType, sc.version, sc.pduSource], [22, 7, 1, 1002]);
  const sd = parseShareDataHeader(sc.body);
  assert.deepEqual(
    [sd.shareId, sd.streamId, sd.uncompressedLength, sd.pduType2, sd.compressedType, sd.compressedLength],
    [0x000103ea, 0, 22, 0x1f, 0, 0],
  );
  assert.deepEqual(sd.data, hex("01 00 63 44"));
  // Peers disagree on uncompressedLength (this trace: totalLength; FreeRDP: payload only) and
  // ignore it when uncompressed; the encoder writes totalLength - 14 and STREAM_LOW.
  const again = encodeSharePdu({
    pduType: 7,
    pduSource: 1002,
    shareId: 0x103ea,
    pduType2: 0x1f,
    data: sd.data,
  });
  assert.deepEqual(again, hex("16 00 17 00 ea 03 ea 03 01 00 00 01 08 00 1f 00 00 00 01 00 63 44"));
});

Deno.test("parseShareControlPdus() walks concatenated PDUs and flow PDUs", () => {
  const flow = hex("00 80 42 00 01 00 00 00");
  const pdus = parseShareControlPdus(concat(DEACTIVATE_ALL, flow, SPEC_SYNCHRONIZE));
  assert.deepEqual(pdus.map((p) => [p.isFlow, p.pduType, p.offset]), [[false, 6, 0], [true, 0, 13], [
    false,
    7,
    21,
  ]]);
  assert.equal(codeOf(() => parseShareControlPdu(concat(DEACTIVATE_ALL, SPEC_SYNCHRONIZE))), "trailing_data");
  assert.equal(parseShareControlPdu(hex("04 00 16 00")).pduSource, null, "4-byte header without pduSource");
  const cases: [string, Uint8Array, string][] = [
    ["empty", hex(""), "truncated"],
    ["totalLength 2", hex("02 00 16 00"), "invalid"],
    ["totalLength beyond data", hex("20 00 17 00 ea 03"), "length_mismatch"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseShareControlPdus(b)), code, name);
});

Deno.test("isDeactivateAll() spots Deactivate All but not a Demand Active", () => {
  assert.equal(parseShareControlPdu(DEACTIVATE_ALL).pduType, PDUTYPE_DEACTIVATEALLPDU);
  assert.equal(isDeactivateAll(DEACTIVATE_ALL), true);
  assert.equal(isDeactivateAll(concat(SPEC_SYNCHRONIZE, DEACTIVATE_ALL)), true);
  assert.equal(parseShareControlPdu(buildDemandActive()).pduType, PDUTYPE_DEMANDACTIVEPDU);
  assert.equal(isDeactivateAll(buildDemandActive()), false);
  assert.equal(isDeactivateAll(SPEC_SYNCHRONIZE), false);
});

Deno.test("encodeSetErrorInfoFrame() builds a complete server frame that parses back", () => {
  const frame = encodeSetErrorInfoFrame({ errorInfo: ERRINFO_SERVER_DENIED_CONNECTION, shareId: 0x103ea });
  assert.equal((frame[2] << 8) | frame[3], frame.length);
  const pdu = parseMcsFrame(frame);
  assert.ok(pdu.type === "sendDataIndication");
  assert.deepEqual([pdu.initiator, pdu.channelId], [1002, 1003]);
  assert.deepEqual(
    pdu.userData,
    hex("16 00 17 00 ea 03 ea 03 01 00 00 01 08 00 2f 00 00 00 07 00 00 00"),
    "share control 0x17, shareId, STREAM_LOW, uncompressedLength 8, pduType2 0x2f, errorInfo 7",
  );
  assert.equal(parseSetErrorInfo(pdu.userData), ERRINFO_SERVER_DENIED_CONNECTION);
  assert.equal(parseSetErrorInfo(SPEC_SYNCHRONIZE), null);
  assert.equal(parseSetErrorInfo(DEACTIVATE_ALL), null);
});

Deno.test("parseSecurityHeader() returns flags and refuses standard RDP encryption", () => {
  assert.deepEqual(parseSecurityHeader(hex("80 00 00 00 ff")), { flags: 0x80, flagsHi: 0, body: hex("ff") });
  assert.equal(codeOf(() => parseSecurityHeader(hex("08 08 01 00 47 bd"))), "unsupported");
  assert.equal(codeOf(() => parseSecurityHeader(hex("40 00"))), "truncated");
});
