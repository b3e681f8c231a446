import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import {
  SPEC_ATTACH_USER_CONFIRM,
  SPEC_CHANNEL_JOIN_CONFIRM,
  SPEC_CHANNEL_JOIN_REQUEST,
  SPEC_VIRTUAL_CHANNEL_PDU,
} from "./fixtures_spec.ts";
import {
  encodeDisconnectProviderUltimatum,
  encodeMcsFrame,
  type McsDomainPdu,
  parseMcsDomainPdu,
  parseMcsFrame,
  replaceSendDataUserData,
  RN_PROVIDER_INITIATED,
} from "./mcs_domain.ts";
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

const table: [string, Uint8Array, McsDomainPdu][] = [
  ["4.1.5 Erect Domain Request", hex("03 00 00 0c 02 f0 80 04 01 00 01 00"), {
    type: "erectDomainRequest",
    subHeight: 0,
    subInterval: 0,
  }],
  ["4.1.6 Attach User Request", hex("03 00 00 08 02 f0 80 28"), { type: "attachUserRequest" }],
  ["4.1.7 Attach User Confirm (spec trace)", SPEC_ATTACH_USER_CONFIRM, {
    type: "attachUserConfirm",
    result: 0,
    initiator: 1007,
  }],
  ["Attach User Confirm, rt-unspecified-failure, no initiator", hex("03 00 00 09 02 f0 80 2d c0"), {
    type: "attachUserConfirm",
    result: 14,
    initiator: null,
  }],
  ["4.1.8.2.1 Channel Join Request (spec trace)", SPEC_CHANNEL_JOIN_REQUEST, {
    type: "channelJoinRequest",
    initiator: 1007,
    channelId: 1003,
  }],
  ["4.1.8.1.2 Channel Join Confirm (spec trace)", SPEC_CHANNEL_JOIN_CONFIRM, {
    type: "channelJoinConfirm",
    result: 0,
    initiator: 1007,
    requested: 1007,
    channelId: 1007,
  }],
  ["Channel Join Confirm, rt-no-such-channel, no channelId", hex("03 00 00 0d 02 f0 80 3c 60 00 06 03 f0"), {
    type: "channelJoinConfirm",
    result: 3,
    initiator: 1007,
    requested: 1008,
    channelId: null,
  }],
  ["Disconnect Provider Ultimatum rn-user-requested", hex("03 00 00 09 02 f0 80 21 80"), {
    type: "disconnectProviderUltimatum",
    reason: 3,
  }],
];

Deno.test("MCS domain PDUs decode the spec traces and re-encode byte for byte", () => {
  for (const [name, frame, pdu] of table) {
    assert.deepEqual(parseMcsFrame(frame), pdu, name);
    assert.deepEqual(encodeMcsFrame(pdu), frame, name);
  }
});

Deno.test("parseMcsFrame() decodes the 4.4 Send Data Indication header and its userData", () => {
  const pdu = parseMcsFrame(SPEC_VIRTUAL_CHANNEL_PDU);
  assert.equal(pdu.type, "sendDataIndication");
  if (pdu.type !== "sendDataIndication") return;
  assert.equal(pdu.initiator, 1002);
  assert.equal(pdu.channelId, 1005);
  assert.equal(pdu.priority, 3, "low");
  assert.equal(pdu.segmentation, 3, "begin|end");
  assert.equal(pdu.userData.length, 0x1c);
  assert.deepEqual(pdu.userData.subarray(0, 4), hex("08 08 01 00"), "security header follows");
  assert.deepEqual(encodeMcsFrame(pdu), SPEC_VIRTUAL_CHANNEL_PDU);
});

Deno.test("Send Data userData uses a 2-byte PER length past 127 bytes and the width is preserved", () => {
  const big = new Uint8Array(300).fill(7);
  const frame = encodeMcsFrame({
    type: "sendDataRequest",
    initiator: 1007,
    channelId: 1003,
    priority: 1,
    segmentation: 3,
    userData: big,
  });
  assert.deepEqual(frame.subarray(7, 15), hex("64 00 06 03 eb 70 81 2c"));
  assert.equal((frame[2] << 8) | frame[3], frame.length);
  // A peer that used the 2-byte form for a short userData gets it back unchanged.
  const fixed = hex("03 00 00 12 02 f0 80 64 00 06 03 eb 70 80 03 01 02 03");
  assert.deepEqual(encodeMcsFrame(parseMcsFrame(fixed)), fixed);
  assert.equal(codeOf(() => parseMcsFrame(fixed.subarray(0, 17))), "length_mismatch", "TPKT says 18");
  const grown = replaceSendDataUserData(fixed, new Uint8Array(200));
  assert.equal((grown[2] << 8) | grown[3], grown.length);
  assert.deepEqual(grown.subarray(13, 15), hex("80 c8"));
});

Deno.test("encodeDisconnectProviderUltimatum() encodes each reason in the split bit field", () => {
  assert.deepEqual(encodeDisconnectProviderUltimatum(), hex("03 00 00 09 02 f0 80 21 80"));
  assert.deepEqual(
    encodeDisconnectProviderUltimatum(RN_PROVIDER_INITIATED),
    hex("03 00 00 09 02 f0 80 20 80"),
  );
  for (let reason = 0; reason <= 4; reason++) {
    assert.deepEqual(parseMcsFrame(encodeDisconnectProviderUltimatum(reason)), {
      type: "disconnectProviderUltimatum",
      reason,
    });
  }
  assert.equal(codeOf(() => encodeDisconnectProviderUltimatum(5)), "invalid");
});

Deno.test("parseMcsDomainPdu() returns other choices opaquely and rejects malformed PDUs", () => {
  assert.deepEqual(parseMcsDomainPdu(hex("30 00 06")), { type: "other", choice: 12, raw: hex("30 00 06") });
  const cases: [string, Uint8Array, string][] = [
    ["empty", hex(""), "truncated"],
    ["choice 50", hex("c8"), "invalid"],
    ["join request truncated", hex("38 00 06 03"), "truncated"],
    ["attach request trailing", hex("28 00"), "trailing_data"],
    ["SDrq length beyond data", hex("64 00 06 03 eb 70 05 01 02"), "truncated"],
    ["DPUm reason 7", hex("23 80"), "invalid"],
    ["erect domain integer length 0", hex("04 00 01 00"), "invalid"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseMcsDomainPdu(b)), code, name);
  assert.equal(
    codeOf(() => encodeMcsFrame({ type: "channelJoinRequest", initiator: 5, channelId: 1003 })),
    "invalid",
  );
});
