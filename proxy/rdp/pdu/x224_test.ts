import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import { SPEC_CONNECTION_REQUEST } from "./fixtures_spec.ts";
import { hex } from "./reader.ts";
import {
  type ConnectionConfirm,
  type ConnectionRequest,
  encodeConnectionConfirm,
  encodeConnectionRequest,
  encodeDisconnectRequest,
  encodeX224Data,
  HYBRID_REQUIRED_BY_SERVER,
  parseConnectionConfirm,
  parseConnectionRequest,
  parseDisconnectRequest,
  parseX224Data,
  PROTOCOL_HYBRID,
  PROTOCOL_SSL,
  rewriteConnectionRequest,
  SSL_REQUIRED_BY_SERVER,
  X224_CC,
  X224_CR,
  X224_DR,
  X224_DT,
  x224Type,
} from "./x224.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

Deno.test("parseConnectionRequest() decodes the MS-RDPBCGR 4.1.1 trace", () => {
  const cr = parseConnectionRequest(SPEC_CONNECTION_REQUEST);
  assert.equal(cr.cookie, "eltons");
  assert.equal(cr.routingToken, null);
  assert.deepEqual(cr.negReq, { flags: 0, requestedProtocols: 0 });
  assert.equal(cr.correlationInfo, null);
  assert.deepEqual(encodeConnectionRequest(cr), SPEC_CONNECTION_REQUEST, "round trip is byte-identical");
  assert.equal(x224Type(SPEC_CONNECTION_REQUEST), X224_CR);
});

const correlationId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const requests: [string, ConnectionRequest][] = [
  ["no token, no NEG_REQ (legacy)", {
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    tokenLine: null,
    cookie: null,
    routingToken: null,
    negReq: null,
    correlationInfo: null,
  }],
  ["NEG_REQ only", {
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    tokenLine: null,
    cookie: null,
    routingToken: null,
    negReq: { flags: 0, requestedProtocols: 0xb },
    correlationInfo: null,
  }],
  ["routing token + NEG_REQ + correlation info", {
    dstRef: 0,
    srcRef: 0x1234,
    classOptions: 0,
    tokenLine: latin1("Cookie: msts=3640205228.15629.0000"),
    cookie: null,
    routingToken: "Cookie: msts=3640205228.15629.0000",
    negReq: { flags: 0x09, requestedProtocols: 0x3 },
    correlationInfo: { correlationId, reserved: new Uint8Array(16) },
  }],
  ["tsv:// token without NEG_REQ", {
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    tokenLine: latin1("tsv://MS Terminal Services Plugin.1.Sessions"),
    cookie: null,
    routingToken: "tsv://MS Terminal Services Plugin.1.Sessions",
    negReq: null,
    correlationInfo: null,
  }],
];

Deno.test("encodeConnectionRequest() and parseConnectionRequest() round-trip every shape", () => {
  for (const [name, cr] of requests) {
    const frame = encodeConnectionRequest(cr);
    assert.equal(frame[4], frame.length - 5, `${name}: length indicator`);
    assert.deepEqual(parseConnectionRequest(frame), cr, name);
  }
});

Deno.test("rewriteConnectionRequest() only changes requestedProtocols and keeps token and correlation", () => {
  const frame = encodeConnectionRequest(requests[2][1]);
  const out = rewriteConnectionRequest(frame, PROTOCOL_SSL);
  assert.equal(out.length, frame.length);
  const cr = parseConnectionRequest(out);
  assert.equal(cr.negReq?.requestedProtocols, PROTOCOL_SSL);
  assert.equal(cr.routingToken, requests[2][1].routingToken);
  assert.deepEqual(cr.correlationInfo?.correlationId, correlationId);
  const diff = [...out].flatMap((b, i) => (b === frame[i] ? [] : [i]));
  assert.deepEqual(diff, [out.length - 44 + 4], "exactly the low byte of requestedProtocols changed");
  assert.equal(codeOf(() => rewriteConnectionRequest(encodeConnectionRequest(requests[0][1]), 1)), "invalid");
});

Deno.test("parseConnectionRequest() rejects malformed requests with typed errors", () => {
  const cases: [string, Uint8Array, string][] = [
    ["short", hex("03 00 00 0a 05 e0 00 00 00 00"), "truncated"],
    ["bad LI", hex("03 00 00 0b 07 e0 00 00 00 00 00"), "length_mismatch"],
    ["not CR", hex("03 00 00 0b 06 d0 00 00 00 00 00"), "invalid"],
    ["class 4", hex("03 00 00 0b 06 e0 00 00 00 00 40"), "invalid"],
    ["cookie without CRLF", hex("03 00 00 0e 09 e0 00 00 00 00 00 43 6f 6f"), "invalid"],
    ["NEG_REQ length 9", hex("03 00 00 13 0e e0 00 00 00 00 00 01 00 09 00 00 00 00 00"), "invalid"],
    [
      "correlation flag without data",
      hex("03 00 00 13 0e e0 00 00 00 00 00 01 08 08 00 00 00 00 00"),
      "truncated",
    ],
    [
      "trailing byte",
      hex("03 00 00 17 12 e0 00 00 00 00 00 41 0d 0a 01 00 08 00 00 00 00 00 ff"),
      "trailing_data",
    ],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseConnectionRequest(b)), code, name);
});

const confirms: [string, ConnectionConfirm, string][] = [
  ["NEG_RSP SSL", {
    dstRef: 0,
    srcRef: 0x1234,
    classOptions: 0,
    negotiation: { type: "response", flags: 0x1f, selectedProtocol: PROTOCOL_SSL },
  }, "03 00 00 13 0e d0 00 00 12 34 00 02 1f 08 00 01 00 00 00"],
  ["SSL_REQUIRED_BY_SERVER", {
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    negotiation: { type: "failure", failureCode: SSL_REQUIRED_BY_SERVER, flags: 0 },
  }, "03 00 00 13 0e d0 00 00 00 00 00 03 00 08 00 01 00 00 00"],
  ["HYBRID_REQUIRED_BY_SERVER", {
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    negotiation: { type: "failure", failureCode: HYBRID_REQUIRED_BY_SERVER, flags: 0 },
  }, "03 00 00 13 0e d0 00 00 00 00 00 03 00 08 00 05 00 00 00"],
  [
    "legacy, no negotiation",
    { dstRef: 0, srcRef: 0, classOptions: 0, negotiation: null },
    "03 00 00 0b 06 d0 00 00 00 00 00",
  ],
];

Deno.test("Connection Confirm encodes to the spec layout and parses back", () => {
  for (const [name, cc, wire] of confirms) {
    assert.deepEqual(encodeConnectionConfirm(cc), hex(wire), name);
    assert.deepEqual(parseConnectionConfirm(hex(wire)), cc, name);
    assert.equal(x224Type(hex(wire)), X224_CC);
  }
  assert.equal(
    codeOf(() => parseConnectionConfirm(hex("03 00 00 13 0e d0 00 00 00 00 00 07 00 08 00 01 00 00 00"))),
    "invalid",
  );
  assert.equal(
    codeOf(() => parseConnectionConfirm(hex("03 00 00 12 0d d0 00 00 00 00 00 02 00 08 00 01 00 00"))),
    "truncated",
  );
  void PROTOCOL_HYBRID;
});

Deno.test("Data TPDU and Disconnect Request encode and parse", () => {
  const dt = encodeX224Data(hex("28"));
  assert.deepEqual(dt, hex("03 00 00 08 02 f0 80 28"));
  assert.deepEqual(parseX224Data(dt), hex("28"));
  assert.equal(x224Type(dt), X224_DT);
  assert.equal(codeOf(() => parseX224Data(hex("03 00 00 08 02 f0 00 28"))), "unsupported");
  assert.equal(codeOf(() => parseX224Data(hex("03 00 00 08 03 f0 80 28"))), "invalid");
  const dr = encodeDisconnectRequest({ dstRef: 0, srcRef: 0x1234, reason: 0 });
  assert.deepEqual(dr, hex("03 00 00 0b 06 80 00 00 12 34 00"));
  assert.deepEqual(parseDisconnectRequest(dr), { dstRef: 0, srcRef: 0x1234, reason: 0 });
  assert.equal(x224Type(dr), X224_DR);
});
