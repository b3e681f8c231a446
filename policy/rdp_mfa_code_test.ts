import assert from "node:assert/strict";
import { redactRdpMfaCode, splitRdpMfaCode } from "./rdp_mfa_code.ts";
import { parseRdpUserName, RdpUserNameError } from "./rdp_user_name.ts";

Deno.test("splitRdpMfaCode: six digits or a recovery code after the last separator", () => {
  assert.deepEqual(splitRdpMfaCode("alice#123456", "#"), { user: "alice", code: "123456" });
  assert.deepEqual(splitRdpMfaCode("alice+svc#000000", "#"), { user: "alice+svc", code: "000000" });
  assert.deepEqual(splitRdpMfaCode("alice#abcd-efgh-ijkl", "#"), { user: "alice", code: "abcd-efgh-ijkl" });
  assert.deepEqual(splitRdpMfaCode("alice#ABCDEFGHIJKL", "#"), { user: "alice", code: "ABCDEFGHIJKL" });
  // the LAST separator counts: a login that contains one keeps it
  assert.deepEqual(splitRdpMfaCode("alice+a#b#654321", "#"), { user: "alice+a#b", code: "654321" });
  assert.deepEqual(splitRdpMfaCode("alice!123456", "!"), { user: "alice", code: "123456" });
});

Deno.test("splitRdpMfaCode: no code unless what follows the separator has a code's shape", () => {
  for (const u of ["alice", "alice#", "alice#12345", "alice#1234567", "alice#12 3456", "alice#svc", "#"]) {
    assert.deepEqual(splitRdpMfaCode(u, "#"), { user: u, code: null }, u);
  }
  assert.deepEqual(splitRdpMfaCode("alice#123456", "!"), { user: "alice#123456", code: null });
});

Deno.test("parseRdpUserName with a separator: the code comes off the user field, both placements", () => {
  const r = parseRdpUserName("", "alice#123456", "#");
  assert.deepEqual([r.jumpUser, r.backendLoginText, r.mfaCode, r.user], ["alice", null, "123456", "alice"]);
  // xfreerdp /u:alice+svc#123456 /d:CORP
  const x = parseRdpUserName("CORP", "alice+svc#123456", "#");
  assert.deepEqual([x.jumpUser, x.backendLoginText, x.mfaCode, x.user], [
    "alice",
    "CORP\\svc",
    "123456",
    "alice+svc",
  ]);
  // mstsc "alice+CORP\svc#123456" arrives as domain "alice+CORP", user "svc#123456"
  const m = parseRdpUserName("alice+CORP", "svc#123456", "#");
  assert.deepEqual([m.jumpUser, m.backendLoginText, m.mfaCode], ["alice", "CORP\\svc", "123456"]);
  // mstsc "CORP\alice#123456"
  const d = parseRdpUserName("CORP", "alice#123456", "#");
  assert.deepEqual([d.jumpUser, d.mfaCode, d.user], ["alice", "123456", "alice"]);
  // without a separator configured nothing is taken off, and '#' is no jump user character
  assert.throws(() => parseRdpUserName("", "alice#123456"), RdpUserNameError);
  // a code in the middle is not a code
  assert.throws(() => parseRdpUserName("", "alice#123456+svc", "#"), RdpUserNameError);
  assert.equal(parseRdpUserName("", "alice", "#").mfaCode, null);
});

Deno.test("redactRdpMfaCode hides everything after the first separator (a truncated cookie too)", () => {
  assert.equal(redactRdpMfaCode("alice#123456", "#"), "alice#…");
  assert.equal(redactRdpMfaCode("alice+svc#12", "#"), "alice+svc#…");
  assert.equal(redactRdpMfaCode("alice", "#"), "alice");
});
