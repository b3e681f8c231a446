// DER, TSRequest, TSCredentials, SPNEGO and NTLM message codecs: round trips, and decodes of the
// TSRequests a real xfreerdp sent.
import assert from "node:assert/strict";
import { RdpParseError } from "../pdu/errors.ts";
import { hex, toHex } from "../pdu/reader.ts";
import { utf16le } from "./crypto.ts";
import { integer, oid, parseTlv, readUint32, TAG_INTEGER, tlvFrameLength } from "./der.ts";
import { XFREERDP_AUTHENTICATE_TSREQUEST, XFREERDP_NEGOTIATE_TSREQUEST } from "./fixtures_captured.ts";
import { TsRequestFramer } from "./frame.ts";
import {
  AV_CHANNEL_BINDINGS,
  AV_FLAGS,
  AV_NB_DOMAIN_NAME,
  AV_TARGET_NAME,
  AV_TIMESTAMP,
  avValue,
  encodeAvPairs,
  encodeChallenge,
  encodeNegotiate,
  NEGOTIATE_KEY_EXCH,
  NEGOTIATE_UNICODE,
  parseAuthenticate,
  parseAvPairs,
  parseChallenge,
  parseNegotiate,
  parseNtlmV2ClientChallenge,
} from "./ntlm_messages.ts";
import {
  encodeNegTokenInit,
  encodeNegTokenResp,
  NEG_STATE_ACCEPT_INCOMPLETE,
  OID_NTLMSSP,
  parseNegTokenInit,
  parseNegTokenResp,
} from "./spnego.ts";
import {
  encodePasswordCreds,
  encodeTsCredentials,
  encodeTsRequest,
  parsePasswordCreds,
  parseTsCredentials,
  parseTsRequest,
  tsRequest,
} from "./ts_request.ts";

const h = (b: Uint8Array) => toHex(b).replaceAll(" ", "");

Deno.test("DER: integers (NTSTATUS in 4 bytes), OIDs, lengths", () => {
  assert.equal(h(integer(0)), "020100");
  assert.equal(h(integer(6)), "020106");
  assert.equal(h(integer(0x80)), "02020080");
  assert.equal(h(integer(0xc000006d)), "0204c000006d");
  assert.equal(readUint32(parseTlv(hex("0204c000006d"), TAG_INTEGER, "x"), "x"), 0xc000006d);
  assert.equal(readUint32(parseTlv(hex("020500c000006d"), TAG_INTEGER, "x"), "x"), 0xc000006d);
  assert.equal(h(oid("1.3.6.1.4.1.311.2.2.10")), "060a2b0601040182370202" + "0a");
  assert.equal(h(oid("1.3.6.1.5.5.2")), "06062b0601050502");
  assert.equal(tlvFrameLength(hex("30")), null);
  assert.equal(tlvFrameLength(hex("30 82 01")), null);
  assert.equal(tlvFrameLength(hex("30 82 01 e1")), 4 + 0x1e1);
  assert.throws(() => tlvFrameLength(hex("30 80")), RdpParseError);
  assert.throws(() => tlvFrameLength(hex("30 84 7f ff ff ff")), RdpParseError);
});

Deno.test("TSRequest and TSCredentials round trip", () => {
  const req = tsRequest({
    version: 6,
    negoTokens: [hex("01 02 03")],
    authInfo: new Uint8Array(300).fill(9),
    pubKeyAuth: hex("aa bb"),
    errorCode: 0xc000006d,
    clientNonce: new Uint8Array(32).fill(1),
  });
  assert.deepEqual(parseTsRequest(encodeTsRequest(req)), req);
  const creds = { domain: "CORP", user: "Ålice", password: "pässwörd ✓" };
  assert.deepEqual(parsePasswordCreds(encodePasswordCreds(creds)), creds);
  const ts = { credType: 1, credentials: encodePasswordCreds(creds) };
  assert.deepEqual(parseTsCredentials(encodeTsCredentials(ts)), ts);
  assert.throws(() => parseTsRequest(hex("30 03 a1 01 00")), RdpParseError); // no version
  assert.throws(
    () => parseTsRequest(encodeTsRequest(tsRequest({ version: 6 })).subarray(0, 4)),
    RdpParseError,
  );
});

Deno.test("real xfreerdp TSRequests decode: NEGOTIATE, then AUTHENTICATE with MIC and pubKeyAuth", () => {
  const first = parseTsRequest(XFREERDP_NEGOTIATE_TSREQUEST);
  assert.equal(first.version, 6);
  assert.equal(first.negoTokens.length, 1);
  assert.equal(first.clientNonce?.length, 32);
  const neg = parseNegotiate(first.negoTokens[0]);
  assert.equal(neg.flags, 0xe20882b7);
  assert.deepEqual(neg.version, { major: 6, minor: 1, build: 7601, revision: 15 });
  // FreeRDP writes offset 0 for its empty fields, we write the payload offset: same message otherwise
  assert.deepEqual(parseNegotiate(encodeNegotiate(neg)), neg);

  const second = parseTsRequest(XFREERDP_AUTHENTICATE_TSREQUEST);
  assert.equal(second.version, 6);
  assert.equal(second.pubKeyAuth?.length, 48); // 16-byte signature + sealed SHA-256
  assert.deepEqual(second.clientNonce, first.clientNonce);
  assert.equal(h(encodeTsRequest(second)), h(XFREERDP_AUTHENTICATE_TSREQUEST));
  const a = parseAuthenticate(second.negoTokens[0]);
  assert.equal(a.user, "alice");
  assert.equal(a.domain, "CORP");
  assert.equal(a.workstation, "vm");
  assert.ok(a.flags & NEGOTIATE_UNICODE && a.flags & NEGOTIATE_KEY_EXCH);
  assert.equal(a.encryptedRandomSessionKey.length, 16);
  assert.equal(a.micField?.length, 16);
  const blob = parseNtlmV2ClientChallenge(a.ntResponse.subarray(16));
  assert.equal(h(avValue(blob.avPairs, AV_FLAGS)!), "02000000");
  assert.equal(h(avValue(blob.avPairs, AV_CHANNEL_BINDINGS)!), "00".repeat(16));
  assert.equal(
    new TextDecoder("utf-16le").decode(avValue(blob.avPairs, AV_TARGET_NAME)!),
    "TERMSRV/127.0.0.1",
  );
  assert.deepEqual(avValue(blob.avPairs, AV_TIMESTAMP), blob.timestamp);
});

Deno.test("the framer reassembles TSRequests split anywhere and keeps what follows", () => {
  const whole = new Uint8Array([...XFREERDP_AUTHENTICATE_TSREQUEST, ...XFREERDP_NEGOTIATE_TSREQUEST, 3, 0]);
  for (const size of [1, 2, 3, 7, 100, whole.length]) {
    const f = new TsRequestFramer();
    const got: Uint8Array[] = [];
    for (let at = 0; at < whole.length; at += size) {
      f.push(whole.subarray(at, at + size));
      // the machines stop asking after their last message: what follows is not CredSSP
      for (let m = got.length < 2 ? f.next() : null; m; m = got.length < 2 ? f.next() : null) got.push(m);
    }
    assert.equal(got.length, 2, `chunk ${size}`);
    assert.equal(h(got[0]), h(XFREERDP_AUTHENTICATE_TSREQUEST));
    assert.equal(h(f.takeRest()), "0300");
  }
  const bad = new TsRequestFramer();
  bad.push(hex("16 03 01"));
  assert.throws(() => bad.next(), RdpParseError);
  const huge = new TsRequestFramer(); // announces 1 MiB: refused at once, not buffered
  huge.push(hex("30 83 10 00 00"));
  assert.throws(() => huge.next(), RdpParseError);
});

Deno.test("SPNEGO NegTokenInit / NegTokenResp round trip", () => {
  const ntlm = hex("4e544c4d5353500001000000");
  const init = parseNegTokenInit(encodeNegTokenInit([OID_NTLMSSP], ntlm));
  assert.deepEqual(init.mechTypes, [OID_NTLMSSP]);
  assert.deepEqual(init.mechToken, ntlm);
  assert.equal(h(init.mechTypesRaw), "300c" + h(OID_NTLMSSP));
  const resp = {
    negState: NEG_STATE_ACCEPT_INCOMPLETE,
    supportedMech: OID_NTLMSSP,
    responseToken: ntlm,
    mechListMIC: new Uint8Array(16).fill(3),
  };
  assert.deepEqual(parseNegTokenResp(encodeNegTokenResp(resp)), resp);
  assert.throws(() => parseNegTokenInit(encodeNegTokenResp(resp)), RdpParseError);
});

Deno.test("NTLM CHALLENGE round trip and AV pairs", () => {
  const targetInfo = encodeAvPairs([
    { id: AV_NB_DOMAIN_NAME, value: utf16le("CORP") },
    { id: AV_TIMESTAMP, value: new Uint8Array(8).fill(1) },
  ]);
  const c = {
    flags: 0xe28a8235,
    targetName: utf16le("CORP"),
    serverChallenge: hex("0123456789abcdef"),
    targetInfo,
    version: { major: 10, minor: 0, build: 19041, revision: 15 },
  };
  assert.deepEqual(parseChallenge(encodeChallenge(c)), c);
  assert.deepEqual(parseAvPairs(targetInfo).map((p) => p.id), [AV_NB_DOMAIN_NAME, AV_TIMESTAMP]);
  assert.throws(() => parseAvPairs(hex("02 00 10 00 41")), RdpParseError);
});
