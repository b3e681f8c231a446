import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import { SPEC_CONNECT_INITIAL, SPEC_CONNECT_RESPONSE } from "./fixtures_spec.ts";
import { CS_CLUSTER, CS_CORE, CS_MULTITRANSPORT, parseClientCluster, parseClientCore } from "./gcc_client.ts";
import { SC_CORE } from "./gcc_server.ts";
import {
  channelNames,
  encodeMcsConnectInitial,
  encodeMcsConnectResponse,
  parseMcsConnectInitial,
  parseMcsConnectResponse,
  rewriteConnectInitial,
  rewriteConnectResponse,
} from "./mcs_connect.ts";
import { ByteWriter } from "./reader.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

/**
 * Independent walk of every length field of a Connect Initial/Response frame, with plain index
 * arithmetic (no project parsers): TPKT, BER outer, BER userData, PER connectPDU (unless the peer
 * sent a known-bogus one), PER userData and each GCC block header. Returns the block types.
 */
function checkConnectLengths(f: Uint8Array, checkConnectPdu = true): number[] {
  assert.equal((f[2] << 8) | f[3], f.length, "TPKT length");
  let i = 7 + 2; // TPKT + X.224 DT + 7f 65/66
  const ber = (): number => {
    const b = f[i++];
    if (b < 0x80) return b;
    let v = 0;
    for (let n = b & 0x7f; n > 0; n--) v = v * 256 + f[i++];
    return v;
  };
  assert.equal(ber(), f.length - i, "BER outer length");
  // Skip TLVs until the OCTET STRING that runs to the end (userData).
  for (;;) {
    const tag = f[i++];
    const len = ber();
    if (tag === 0x04 && i + len === f.length) break;
    i += len;
    assert.ok(i < f.length, "userData OCTET STRING found");
  }
  i += 7; // T.124 key
  const per = (): number => (f[i] & 0x80 ? ((f[i++] & 0x7f) << 8) | f[i++] : f[i++]);
  const connectPdu = per();
  if (checkConnectPdu) assert.equal(connectPdu, f.length - i, "PER connectPDU length");
  // Walk to the H.221 key ("Duca"/"McDn") then read the user data length.
  while (!(f[i] === 0xc0 && f[i + 1] === 0x00)) i++;
  i += 6;
  assert.equal(per(), f.length - i, "PER userData length");
  const types: number[] = [];
  while (i < f.length) {
    const type = f[i] | (f[i + 1] << 8);
    const len = f[i + 2] | (f[i + 3] << 8);
    assert.ok(len >= 4 && i + len <= f.length, `block 0x${type.toString(16)} length`);
    types.push(type);
    i += len;
  }
  assert.equal(i, f.length, "blocks tile the user data");
  return types;
}

Deno.test("parseMcsConnectInitial() decodes the MS-RDPBCGR 4.1.3 trace", () => {
  const ci = parseMcsConnectInitial(SPEC_CONNECT_INITIAL);
  assert.equal(ci.targetParameters.maxChannelIds, 34);
  assert.equal(ci.maximumParameters.maxMcsPduSize, 65535);
  assert.equal(ci.minimumParameters.maxMcsPduSize, 1056);
  assert.equal(ci.upwardFlag, true);
  const core = ci.client.core!;
  assert.equal(core.version, 0x00080004);
  assert.deepEqual([core.desktopWidth, core.desktopHeight], [1280, 1024]);
  assert.equal(core.colorDepth, 0xca01);
  assert.equal(core.postBeta2ColorDepth, 0xca01);
  assert.equal(core.highColorDepth, 24);
  assert.equal(core.supportedColorDepths, 7);
  assert.equal(core.earlyCapabilityFlags, 1);
  assert.equal(core.keyboardLayout, 0x409);
  assert.equal(core.clientBuild, 3790);
  assert.equal(core.clientName, "ELTONS-DEV2");
  assert.equal(core.keyboardFunctionKey, 12);
  assert.equal(core.clientDigProductId, "69712-783-0357974-42714");
  assert.equal(core.serverSelectedProtocol, 0);
  assert.deepEqual(ci.client.security, { encryptionMethods: 0x1b, extEncryptionMethods: 0 });
  assert.deepEqual(ci.client.channels, [
    { name: "rdpdr", options: 0x80800000 },
    { name: "cliprdr", options: 0xc0a00000 },
    { name: "rdpsnd", options: 0xc0000000 },
  ]);
  assert.deepEqual(ci.client.cluster, { flags: 0x0d, redirectedSessionId: 0 });
  assert.deepEqual(checkConnectLengths(SPEC_CONNECT_INITIAL), [0xc001, 0xc004, 0xc002, 0xc003]);
});

Deno.test("encodeMcsConnectInitial() re-emits the unchanged spec trace byte for byte", () => {
  assert.deepEqual(
    encodeMcsConnectInitial(parseMcsConnectInitial(SPEC_CONNECT_INITIAL)),
    SPEC_CONNECT_INITIAL,
  );
});

/** The spec Connect Initial with CS_MULTITRANSPORT added, GFX advertised and an 8 bpp high colour. */
function modernInitial(highColorDepth: number | null): Uint8Array {
  const ci = parseMcsConnectInitial(SPEC_CONNECT_INITIAL);
  const blocks = ci.blocks.map((b) => {
    if (b.type !== CS_CORE) return b;
    const data = b.data.slice();
    data[140] = 0x01; // earlyCapabilityFlags = ERRINFO | DYNVC_GFX (0x0101)
    data[141] = 0x01;
    if (highColorDepth === null) return { type: b.type, data: data.subarray(0, 136) };
    data[136] = highColorDepth;
    return { type: b.type, data };
  });
  blocks.push({ type: CS_MULTITRANSPORT, data: new ByteWriter(4).u32le(0x305).finish() });
  return encodeMcsConnectInitial({ wire: ci.wire, blocks });
}

Deno.test("rewriteConnectInitial() applies the downgrade and fixes every length", () => {
  const before = modernInitial(8);
  checkConnectLengths(before);
  const after = rewriteConnectInitial(before);
  assert.deepEqual(checkConnectLengths(after), [0xc001, 0xc004, 0xc002, 0xc003], "CS_MULTITRANSPORT dropped");
  assert.equal(after.length, before.length - 8);
  const ci = parseMcsConnectInitial(after);
  const core = ci.client.core!;
  assert.equal(core.earlyCapabilityFlags, 0x0001, "GFX cleared, ERRINFO kept");
  assert.equal(core.highColorDepth, 16, "8 bpp raised to 16");
  assert.equal(core.supportedColorDepths, 7);
  assert.equal(core.postBeta2ColorDepth, 0xca01, "ignored field left alone");
  assert.equal(ci.client.cluster?.flags, 0x0c, "REDIRECTION_SUPPORTED cleared, version bits kept");
  assert.equal(ci.client.multitransport, null);
  assert.deepEqual(ci.client.channels.map((c) => c.name), ["rdpdr", "cliprdr", "rdpsnd"]);
  const orig = parseMcsConnectInitial(before);
  assert.deepEqual(ci.targetParameters, orig.targetParameters);
  assert.equal(ci.client.core?.clientName, "ELTONS-DEV2");
});

Deno.test("rewriteConnectInitial() sets serverSelectedProtocol to the backend's choice when given", () => {
  const before = modernInitial(24);
  assert.equal(parseMcsConnectInitial(rewriteConnectInitial(before)).client.core!.serverSelectedProtocol, 0);
  const after = rewriteConnectInitial(before, 0x2);
  checkConnectLengths(after);
  const core = parseMcsConnectInitial(after).client.core!;
  assert.equal(core.serverSelectedProtocol, 0x2);
  assert.equal(core.highColorDepth, 24, "the rest of CS_CORE is untouched");
  // a client whose CS_CORE ends before the field has nothing to rewrite
  const short = parseMcsConnectInitial(rewriteConnectInitial(modernInitial(null), 0x2)).client.core!;
  assert.equal(short.serverSelectedProtocol, undefined);
});

Deno.test("rewriteConnectInitial() keeps 24 bpp, fixes postBeta2-only 8 bpp and refuses RDP 4.0 clients", () => {
  const keep = parseMcsConnectInitial(rewriteConnectInitial(modernInitial(24))).client.core!;
  assert.equal(keep.highColorDepth, 24);
  const beta2 = parseMcsConnectInitial(rewriteConnectInitial(modernInitial(null))).client.core!;
  assert.equal(beta2.highColorDepth, undefined);
  assert.equal(beta2.postBeta2ColorDepth, 0xca03);
  assert.equal(beta2.earlyCapabilityFlags, undefined);
  const ci = parseMcsConnectInitial(SPEC_CONNECT_INITIAL);
  const rdp4 = encodeMcsConnectInitial({
    wire: ci.wire,
    blocks: ci.blocks.map((b) => (b.type === CS_CORE ? { type: b.type, data: b.data.subarray(0, 128) } : b)),
  });
  assert.equal(codeOf(() => rewriteConnectInitial(rdp4)), "unsupported");
});

Deno.test("client block parsers reject short or inconsistent blocks", () => {
  assert.equal(codeOf(() => parseClientCore(new Uint8Array(127))), "truncated");
  assert.equal(codeOf(() => parseClientCluster(new Uint8Array(7))), "truncated");
  const ci = parseMcsConnectInitial(SPEC_CONNECT_INITIAL);
  const dup = encodeMcsConnectInitial({
    wire: ci.wire,
    blocks: [...ci.blocks, ci.blocks.find((b) => b.type === CS_CLUSTER)!],
  });
  assert.equal(codeOf(() => parseMcsConnectInitial(dup)), "invalid");
  const badNet = SPEC_CONNECT_INITIAL.slice();
  badNet[0x178] = 0x20; // CS_NET channelCount 32
  assert.equal(codeOf(() => parseMcsConnectInitial(badNet)), "too_large");
});

Deno.test("parseMcsConnectResponse() decodes the MS-RDPBCGR 4.1.4 trace and re-emits it", () => {
  const cr = parseMcsConnectResponse(SPEC_CONNECT_RESPONSE);
  assert.equal(cr.result, 0);
  assert.equal(cr.domainParameters.maxMcsPduSize, 0xfff8);
  assert.equal(cr.gccNodeId, 0x760a + 1001);
  assert.deepEqual(cr.server.core, { version: 0x00080004, clientRequestedProtocols: 0 });
  assert.deepEqual(cr.server.network, { ioChannelId: 1003, channelIds: [1004, 1005, 1006] });
  assert.equal(cr.server.security?.encryptionMethod, 2);
  assert.equal(cr.server.security?.serverRandom?.length, 32);
  assert.equal(cr.server.security?.serverCertificate?.length, 0xb8);
  assert.equal(cr.wire.gcc.connectPduLengthConsistent, false, "Windows sends a fixed connectPDU length");
  assert.deepEqual(encodeMcsConnectResponse(cr), SPEC_CONNECT_RESPONSE);
  checkConnectLengths(SPEC_CONNECT_RESPONSE, false);
});

Deno.test("rewriteConnectResponse() sets clientRequestedProtocols and keeps lengths right", () => {
  const out = rewriteConnectResponse(SPEC_CONNECT_RESPONSE, 0x3);
  assert.equal(out.length, SPEC_CONNECT_RESPONSE.length);
  checkConnectLengths(out, false);
  assert.equal(parseMcsConnectResponse(out).server.core?.clientRequestedProtocols, 3);
  // An RDP 4.0-style SC_CORE (version only) gets the field appended: every length grows by 4.
  const cr = parseMcsConnectResponse(SPEC_CONNECT_RESPONSE);
  const short = encodeMcsConnectResponse({
    wire: cr.wire,
    blocks: cr.blocks.map((b) => (b.type === SC_CORE ? { type: b.type, data: b.data.subarray(0, 4) } : b)),
  });
  const grown = rewriteConnectResponse(short, 0xb);
  assert.equal(grown.length, short.length + 4);
  checkConnectLengths(grown, false);
  assert.deepEqual(parseMcsConnectResponse(grown).server.core, {
    version: 0x00080004,
    clientRequestedProtocols: 0xb,
  });
});

Deno.test("MCS connect parsers reject wrong tags and broken BER", () => {
  assert.equal(codeOf(() => parseMcsConnectInitial(SPEC_CONNECT_RESPONSE)), "invalid");
  assert.equal(codeOf(() => parseMcsConnectResponse(SPEC_CONNECT_INITIAL)), "invalid");
  const indefinite = SPEC_CONNECT_INITIAL.slice();
  indefinite[9] = 0x80;
  assert.equal(codeOf(() => parseMcsConnectInitial(indefinite)), "unsupported");
  const longer = SPEC_CONNECT_INITIAL.slice();
  longer[11] = 0x95; // outer BER length one more than present
  assert.equal(codeOf(() => parseMcsConnectInitial(longer)), "truncated");
});

Deno.test("channelNames() pairs CS_NET names with SC_NET ids by index", () => {
  const ci = parseMcsConnectInitial(SPEC_CONNECT_INITIAL);
  const cr = parseMcsConnectResponse(SPEC_CONNECT_RESPONSE);
  assert.deepEqual(
    [...channelNames(ci.client, cr.server)],
    [[1003, "I/O"], [1004, "rdpdr"], [1005, "cliprdr"], [1006, "rdpsnd"]],
  );
  assert.equal(
    codeOf(() => channelNames({ ...ci.client, channels: ci.client.channels.slice(1) }, cr.server)),
    "invalid",
  );
});
