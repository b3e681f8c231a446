import assert from "node:assert/strict";
import {
  INFO_AUTOLOGON,
  INFO_COMPRESSION,
  INFO_COMPRESSION_TYPE_MASK,
  parseClientInfo,
  rewriteClientInfo,
  rewriteClientInfoFrame,
  rewriteClientInfoLogon,
} from "./client_info.ts";
import { RdpParseError } from "./errors.ts";
import { buildClientInfo, sdrq } from "./fixtures_built.ts";
import { parseMcsFrame } from "./mcs_domain.ts";
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

Deno.test("parseClientInfo() decodes strings and extended info without exposing the password", () => {
  const info = parseClientInfo(buildClientInfo({ arcLogonId: 0x2a }));
  assert.equal(info.securityFlags, 0x0040);
  assert.equal(info.codePage, 0x0409);
  assert.equal(info.flags, 0x000b47fb);
  assert.equal(info.domain, "CORP");
  assert.equal(info.userName, "alice");
  assert.equal(info.passwordPresent, true);
  assert.equal(info.alternateShell, "");
  assert.equal(info.workingDir, "C:\\work");
  assert.deepEqual(info.extended, {
    clientAddressFamily: 2,
    clientAddress: "192.0.2.7",
    clientDir: "C:\\Windows\\System32\\mstscax.dll",
    clientSessionId: 0,
    performanceFlags: 7,
    autoReconnectLogonId: 0x2a,
  });
  assert.ok(!JSON.stringify(info).includes("s3cret"), "password never appears in the result");
  assert.equal(parseClientInfo(buildClientInfo({ password: "" })).passwordPresent, false);
});

Deno.test("parseClientInfo() handles ANSI strings and a packet without extended info", () => {
  const ansi = hex(`40 00 00 00 09 04 00 00 03 00 00 00  02 00 03 00 02 00 00 00 00 00
    44 4f 00  62 6f 62 00  70 77 00  00  00`);
  const info = parseClientInfo(ansi);
  assert.deepEqual([info.domain, info.userName, info.passwordPresent, info.extended], [
    "DO",
    "bob",
    true,
    null,
  ]);
});

Deno.test("rewriteClientInfo() clears only INFO_COMPRESSION and CompressionTypeMask", () => {
  const before = buildClientInfo();
  const after = rewriteClientInfo(before);
  assert.equal(after.length, before.length);
  const flags = parseClientInfo(after).flags;
  assert.equal(flags & (INFO_COMPRESSION | INFO_COMPRESSION_TYPE_MASK), 0);
  assert.equal(flags, 0x000b47fb & ~0x1e80);
  const changed = [...after].flatMap((b, i) => (b === before[i] ? [] : [i]));
  assert.deepEqual(changed, [8, 9], "only the low flag bytes differ");
});

Deno.test("rewriteClientInfoFrame() keeps the MCS and TPKT framing identical", () => {
  const frame = sdrq(buildClientInfo());
  const out = rewriteClientInfoFrame(frame);
  assert.equal(out.length, frame.length);
  assert.deepEqual(out.subarray(0, 15), frame.subarray(0, 15));
  const pdu = parseMcsFrame(out);
  assert.ok(pdu.type === "sendDataRequest");
  assert.equal(parseClientInfo(pdu.userData).flags & 0x1e80, 0);
});

Deno.test("parseClientInfo() rejects malformed packets with typed errors", () => {
  const good = buildClientInfo();
  const noInfoFlag = good.slice();
  noInfoFlag[0] = 0;
  const encrypted = good.slice();
  encrypted[0] = 0x48;
  const oddDomain = good.slice();
  oddDomain[12] = 7;
  const cases: [string, Uint8Array, string][] = [
    ["no SEC_INFO_PKT", noInfoFlag, "invalid"],
    ["SEC_ENCRYPT", encrypted, "unsupported"],
    ["odd unicode length", oddDomain, "invalid"],
    ["truncated strings", good.subarray(0, 30), "truncated"],
    ["bad ARC size", withBadArc(), "invalid"],
  ];
  for (const [name, b, code] of cases) assert.equal(codeOf(() => parseClientInfo(b)), code, name);
  assert.equal(codeOf(() => rewriteClientInfoFrame(hex("03 00 00 08 02 f0 80 28"))), "invalid");
});

function withBadArc(): Uint8Array {
  const b = buildClientInfo({ arcLogonId: 1 });
  const at = b.length - 4 - 28; // cbLen of ARC_CS_PRIVATE_PACKET
  b[at] = 27;
  return b;
}

Deno.test("rewriteClientInfoLogon() replaces the credentials and keeps every other field", () => {
  const before = buildClientInfo({ arcLogonId: 7 });
  const orig = parseClientInfo(before);
  const injected = rewriteClientInfoLogon(before, {
    domain: "WIN",
    userName: "svc-desk",
    password: "V4ult!",
  });
  const a = parseClientInfo(injected);
  assert.deepEqual([a.domain, a.userName, a.passwordPresent], ["WIN", "svc-desk", true]);
  assert.ok(a.flags & INFO_AUTOLOGON);
  assert.equal(a.flags & (INFO_COMPRESSION | INFO_COMPRESSION_TYPE_MASK), 0);
  assert.deepEqual([a.workingDir, a.alternateShell, a.extended], [
    orig.workingDir,
    orig.alternateShell,
    orig.extended,
  ]);
  assert.equal(a.securityFlags, orig.securityFlags);
  // the password bytes are the injected ones (UTF-16LE), the client's are gone
  const text = new TextDecoder("utf-16le").decode(injected);
  assert.ok(text.includes("V4ult!") && !text.includes("s3cret!"));

  const blank = parseClientInfo(
    rewriteClientInfoLogon(before, { domain: "", userName: "bob", password: "" }),
  );
  assert.deepEqual([blank.domain, blank.userName, blank.passwordPresent], ["", "bob", false]);
  assert.equal(blank.flags & INFO_AUTOLOGON, 0, "no password: no autologon");
  assert.deepEqual(blank.extended, orig.extended);
});

Deno.test("rewriteClientInfoLogon() handles ANSI packets and refuses what cannot be encoded", () => {
  const ansi = hex(`40 00 00 00 09 04 00 00 03 00 00 00  02 00 03 00 02 00 00 00 00 00
    44 4f 00  62 6f 62 00  70 77 00  00  00`);
  const out = parseClientInfo(rewriteClientInfoLogon(ansi, { domain: "D", userName: "carol", password: "" }));
  assert.deepEqual([out.domain, out.userName, out.passwordPresent], ["D", "carol", false]);
  assert.equal(
    codeOf(() => rewriteClientInfoLogon(ansi, { domain: "", userName: "\u0416", password: "" })),
    "unsupported",
  );
  const long = "x".repeat(300);
  assert.equal(
    codeOf(() => rewriteClientInfoLogon(buildClientInfo(), { domain: "", userName: long, password: "" })),
    "too_large",
  );
});
