/**
 * Totality fuzzing: every parser gets random bytes and mutated fixtures (bit flips, truncations,
 * extensions, length-field corruptions) from a seeded PRNG. Each call must return or throw
 * RdpParseError; where a parse succeeds, the matching encoder must re-encode consistently.
 * Override RDP_FUZZ_SEED / RDP_FUZZ_ITERATIONS to explore; failures print the seed and the input.
 */
import assert from "node:assert/strict";
import { encodeMcsConnectInitial, encodeMcsConnectResponse } from "./mcs_connect.ts";
import * as P from "./mod.ts";
import { RdpParseError } from "./errors.ts";
import * as B from "./fixtures_built.ts";
import * as S from "./fixtures_spec.ts";
import { concat, toHex } from "./reader.ts";

const SEED = Number(Deno.env.get("RDP_FUZZ_SEED") ?? 0x5eed1234);
const ITERATIONS = Number(Deno.env.get("RDP_FUZZ_ITERATIONS") ?? 3000);

/** mulberry32: tiny, fast, good enough for fuzzing. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = rand();
  if (src.length === 0 || pick < 0.1) return Uint8Array.from({ length: int(300) }, () => int(256));
  const b = src.slice();
  if (pick < 0.35) {
    for (let n = 1 + int(4); n > 0; n--) b[int(b.length)] ^= 1 << int(8);
    return b;
  }
  if (pick < 0.5) return b.subarray(0, int(b.length));
  if (pick < 0.6) return concat(b, Uint8Array.from({ length: 1 + int(16) }, () => int(256)));
  // Length-field corruption: write an extreme or random 1/2/4-byte value at a random offset, in
  // either byte order (TPKT/PER/BER are big-endian, RDP structures little-endian).
  const at = int(b.length);
  const extremes = [0, 1, 2, 3, 4, 0x7f, 0x80, 0x81, 0x82, 0xff, 0xfe];
  const width = [1, 2, 4][int(3)];
  const value = rand() < 0.5
    ? extremes[int(extremes.length)] * (width > 1 && rand() < 0.5 ? 0x101 : 1)
    : int(2 ** (8 * width));
  for (let i = 0; i < width && at + i < b.length; i++) {
    const shift = rand() < 0.5 ? i : width - 1 - i;
    b[at + i] = Math.floor(value / 2 ** (8 * shift)) & 0xff;
  }
  return b;
}

const clientInfoFrame = B.sdrq(B.buildClientInfo({ arcLogonId: 3 }));
const confirmFrame = B.sdrq(B.buildModernConfirmActive());
const demand = B.buildDemandActive();
const fpOut = P.encodeFastPathOutput({
  flags: 0,
  longLength: true,
  updates: [
    {
      updateCode: 1,
      fragmentation: 2,
      compression: 0,
      compressionFlags: null,
      data: new Uint8Array(40).fill(1),
    },
    {
      updateCode: 1,
      fragmentation: 1,
      compression: 0,
      compressionFlags: null,
      data: new Uint8Array(9).fill(2),
    },
    { updateCode: 3, fragmentation: 0, compression: 2, compressionFlags: 0x01, data: new Uint8Array(2) },
  ],
});
const fpIn = P.encodeFastPathInput([
  { type: "sync", toggleFlags: 4 },
  { type: "scancode", keyCode: 0x1e, release: false, extended: false, extended1: false },
  { type: "mouse", pointerFlags: 0x800, x: 5, y: 6 },
  { type: "unicode", code: 0x41, release: false },
  { type: "relmouse", pointerFlags: 0, dx: -1, dy: 1 },
  { type: "qoe", timestamp: 9 },
]);
const slowInput = B.buildSlowPathInput([B.slowKey(0x1e, 0), B.slowKey(0x1e, 0x8000)]);
const channelChunks = P.chunkChannelMessage(new Uint8Array(50).fill(3), 20);
const clipList = B.cliprdrMessage(
  2,
  0,
  concat(Uint8Array.of(13, 0, 0, 0, 0, 0), P.encodeX224Data(new Uint8Array(0))),
);
const fgd = concat(
  Uint8Array.of(2, 0, 0, 0),
  B.fileDescriptor("a.txt", 10),
  B.fileDescriptor("dir", 0, true),
);
const rdpdrList = concat(
  Uint8Array.of(0x72, 0x44, 0x41, 0x44, 1, 0, 0, 0),
  B.rdpdrDevice(8, 1, "C:", new TextEncoder().encode("C:\0")),
);
const rdpdrCreate = concat(
  Uint8Array.of(0x72, 0x44, 0x52, 0x49),
  new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  new Uint8Array(32),
  Uint8Array.of(6, 0, 0, 0, 0x41, 0, 0x42, 0, 0, 0),
);
const stream = concat(S.SPEC_CONNECTION_REQUEST, fpIn, S.SPEC_CONNECT_INITIAL, fpOut, clientInfoFrame);

interface Target {
  name: string;
  fixtures: Uint8Array[];
  run: (b: Uint8Array) => void;
}

const targets: Target[] = [
  { name: "PduStream", fixtures: [stream], run: (b) => void new P.PduStream().push(b) },
  { name: "parseTpkt", fixtures: [S.SPEC_CONNECTION_REQUEST, confirmFrame], run: (b) => void P.parseTpkt(b) },
  {
    name: "parseConnectionRequest",
    fixtures: [S.SPEC_CONNECTION_REQUEST],
    run: (b) => void P.parseConnectionRequest(b),
  },
  {
    name: "rewriteConnectionRequest",
    fixtures: [S.SPEC_CONNECTION_REQUEST],
    run: (b) => void P.rewriteConnectionRequest(b, 1),
  },
  {
    name: "parseConnectionConfirm",
    fixtures: [
      P.encodeConnectionConfirm({
        dstRef: 0,
        srcRef: 1,
        classOptions: 0,
        negotiation: { type: "failure", failureCode: 5 },
      }),
    ],
    run: (b) => void P.parseConnectionConfirm(b),
  },
  {
    name: "parseDisconnectRequest",
    fixtures: [P.encodeDisconnectRequest({ dstRef: 0, srcRef: 0, reason: 1 })],
    run: (b) => void P.parseDisconnectRequest(b),
  },
  {
    name: "parseMcsConnectInitial",
    fixtures: [S.SPEC_CONNECT_INITIAL],
    run: (b) => {
      const ci = P.parseMcsConnectInitial(b);
      assert.deepEqual(encodeMcsConnectInitial(ci), tpktReservedZero(b), "encode(parse(x)) is x");
    },
  },
  {
    name: "rewriteConnectInitial",
    fixtures: [S.SPEC_CONNECT_INITIAL],
    run: (b) => void P.parseMcsConnectInitial(P.rewriteConnectInitial(b, 0x2)),
  },
  {
    name: "parseMcsConnectResponse",
    fixtures: [S.SPEC_CONNECT_RESPONSE],
    run: (b) => {
      const cr = P.parseMcsConnectResponse(b);
      assert.deepEqual(encodeMcsConnectResponse(cr), tpktReservedZero(b), "encode(parse(x)) is x");
    },
  },
  {
    name: "rewriteConnectResponse",
    fixtures: [S.SPEC_CONNECT_RESPONSE],
    run: (b) => void P.rewriteConnectResponse(b, 3),
  },
  {
    name: "parseMcsFrame",
    fixtures: [
      S.SPEC_ATTACH_USER_CONFIRM,
      S.SPEC_CHANNEL_JOIN_CONFIRM,
      S.SPEC_CHANNEL_JOIN_REQUEST,
      S.SPEC_VIRTUAL_CHANNEL_PDU,
      P.encodeDisconnectProviderUltimatum(),
    ],
    run: (b) => {
      const pdu = P.parseMcsFrame(b);
      assert.deepEqual(P.parseMcsFrame(P.encodeMcsFrame(pdu)), pdu, "parse(encode(parse(x))) is parse(x)");
    },
  },
  {
    name: "parseClientInfo",
    fixtures: [B.buildClientInfo({ arcLogonId: 1 })],
    run: (b) => void P.parseClientInfo(b),
  },
  {
    name: "rewriteClientInfoFrame",
    fixtures: [clientInfoFrame],
    run: (b) => void P.rewriteClientInfoFrame(b),
  },
  {
    name: "rewriteClientInfoLogon",
    fixtures: [B.buildClientInfo({ arcLogonId: 1 })],
    // what it writes must parse back to the injected names
    run: (b) => {
      const info = P.parseClientInfo(
        P.rewriteClientInfoLogon(b, { domain: "D", userName: "svc", password: "pw" }),
      );
      assert.deepEqual([info.domain, info.userName, info.passwordPresent], ["D", "svc", true]);
    },
  },
  {
    name: "parseShareControlPdus",
    fixtures: [demand, slowInput],
    run: (b) => void P.parseShareControlPdus(b),
  },
  { name: "summarizeDemandActive", fixtures: [demand], run: (b) => void P.summarizeDemandActive(b) },
  {
    name: "parseConfirmActive",
    fixtures: [S.SPEC_CONFIRM_ACTIVE_DATA],
    run: (b) => void P.parseConfirmActive(b),
  },
  {
    name: "rewriteConfirmActiveFrame",
    fixtures: [confirmFrame],
    run: (b) => {
      const out = P.rewriteConfirmActiveFrame(b);
      const pdu = P.parseMcsFrame(out);
      assert.ok(pdu.type === "sendDataRequest");
      P.parseConfirmActive(pdu.userData); // the rewrite always yields a parseable PDU
    },
  },
  {
    name: "isDeactivateAll/parseSetErrorInfo",
    fixtures: [demand],
    run: (b) => void (P.isDeactivateAll(b) || P.parseSetErrorInfo(b)),
  },
  {
    name: "parseFastPathOutput+FastPathReassembler",
    fixtures: [fpOut],
    run: (b) => {
      const pdu = P.parseFastPathOutput(b);
      assert.deepEqual(P.parseFastPathOutput(P.encodeFastPathOutput(pdu)).updates, pdu.updates);
      const r = new P.FastPathReassembler(64);
      for (const u of pdu.updates) r.push(u);
    },
  },
  {
    name: "parseFastPathInput+KeystrokeTranslator",
    fixtures: [fpIn],
    run: (b) => {
      const { events } = P.parseFastPathInput(b);
      assert.deepEqual(P.parseFastPathInput(P.encodeFastPathInput(events)).events, events);
      new P.KeystrokeTranslator(0x809).feedAll(events);
    },
  },
  { name: "parseSlowPathInputPdu", fixtures: [slowInput], run: (b) => void P.parseSlowPathInputPdu(b) },
  {
    name: "ChannelReassembler",
    fixtures: [channelChunks[0]],
    run: (b) => {
      const r = new P.ChannelReassembler(64);
      for (const c of [b, channelChunks[1], channelChunks[2]]) r.push(1004, c);
    },
  },
  {
    name: "cliprdr parsers",
    fixtures: [
      clipList,
      B.cliprdrMessage(5, 1, fgd),
      B.cliprdrMessage(7, 0, Uint8Array.of(1, 0, 0, 0, 1, 0, 12, 0, 2, 0, 0, 0, 2, 0, 0, 0)),
    ],
    run: (b) => {
      const pdu = P.parseCliprdrPdu(b);
      for (
        const fn of [
          () => P.parseFormatList(pdu, true),
          () => P.parseFormatList(pdu, false),
          () => P.parseClipCapsGeneralFlags(pdu),
          () => P.parseUnicodeTextResponse(pdu),
          () => P.parseFileGroupDescriptorW(pdu.data),
        ]
      ) {
        try {
          fn();
        } catch (e) {
          if (!(e instanceof RdpParseError)) throw e;
        }
      }
    },
  },
  {
    name: "rdpdr parsers",
    fixtures: [rdpdrList, rdpdrCreate],
    run: (b) => {
      const pdu = P.parseRdpdrPdu(b);
      if (pdu.packetId === P.PAKID_CORE_DEVICELIST_ANNOUNCE) P.parseDeviceListAnnounce(pdu);
      else P.parseDeviceIoRequest(pdu);
    },
  },
];

for (const t of targets) {
  Deno.test(`${t.name} returns or throws RdpParseError on ${ITERATIONS} fuzzed inputs`, () => {
    const rand = prng(SEED ^ hash(t.name));
    for (const f of t.fixtures) t.run(f); // fixtures themselves must parse cleanly
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(rand, t.fixtures[Math.floor(rand() * t.fixtures.length)]);
      try {
        t.run(input);
        accepted++;
      } catch (e) {
        if (e instanceof RdpParseError) continue;
        throw new Error(`${t.name}: seed ${SEED} iteration ${i}: ${e}\ninput: ${toHex(input)}`);
      }
    }
    // Mutations must not all be rejected, or the fuzzer would only exercise the first check.
    assert.ok(accepted > 0, `${t.name}: no mutated input was accepted`);
  });
}

/** The TPKT reserved byte is ignored on input and written as 0. */
function tpktReservedZero(b: Uint8Array): Uint8Array {
  const out = b.slice();
  out[1] = 0;
  return out;
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
}
