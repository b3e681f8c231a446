import assert from "node:assert/strict";
import {
  encodeActivePdu,
  parseConfirmActive,
  parseDemandActive,
  summarizeDemandActive,
} from "./capabilities.ts";
import { rewriteConfirmActive, rewriteConfirmActiveFrame } from "./confirm_active.ts";
import { RdpParseError } from "./errors.ts";
import { buildDemandActive, buildModernConfirmActive, sdrq } from "./fixtures_built.ts";
import { SPEC_CONFIRM_ACTIVE_DATA } from "./fixtures_spec.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number) => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;

interface Walked {
  caps: Map<number, Uint8Array>;
  order: number[];
}

/**
 * Independent check of every length in an SDrq frame carrying a Confirm Active (plain offsets, no
 * project parsers): TPKT, MCS PER userData length, totalLength, lengthCombinedCapabilities,
 * numberCapabilities and each capability length. Returns the sets (data without header).
 */
function walkConfirmActiveFrame(f: Uint8Array): Walked {
  assert.equal((f[2] << 8) | f[3], f.length, "TPKT length");
  assert.equal(f[7], 0x64, "SDrq");
  let i = 13;
  const perLen = f[i] & 0x80 ? ((f[i++] & 0x7f) << 8) | f[i++] : f[i++];
  assert.equal(perLen, f.length - i, "MCS userData PER length");
  return walkConfirmActive(f.subarray(i));
}

function walkConfirmActive(u: Uint8Array): Walked {
  assert.equal(u16(u, 0), u.length, "share control totalLength");
  assert.equal(u16(u, 2), 0x13, "pduType confirm active");
  const lenSource = u16(u, 12);
  const lenCombined = u16(u, 14);
  const start = 16 + lenSource;
  assert.equal(lenCombined, u.length - start, "lengthCombinedCapabilities");
  const count = u16(u, start);
  const caps = new Map<number, Uint8Array>();
  const order: number[] = [];
  let i = start + 4;
  for (let n = 0; n < count; n++) {
    const type = u16(u, i);
    const len = u16(u, i + 2);
    caps.set(type, u.subarray(i + 4, i + len));
    order.push(type);
    i += len;
  }
  assert.equal(i, u.length, "numberCapabilities sets tile the combined block");
  return { caps, order };
}

Deno.test("parseConfirmActive() decodes the MS-RDPBCGR 4.1.13 trace and re-encodes it exactly", () => {
  const ca = parseConfirmActive(SPEC_CONFIRM_ACTIVE_DATA);
  assert.equal(ca.pduSource, 1007);
  assert.equal(ca.shareId, 0x000103ea);
  assert.equal(ca.originatorId, 0x03ea);
  assert.equal(new TextDecoder().decode(ca.sourceDescriptor), "MSTSC\0");
  assert.equal(ca.capabilities.length, 18);
  // general, bitmap, order, bitmap cache rev2, colour table, activation, control, pointer, share,
  // input, sound, font, glyph cache, brush, offscreen, virtual channel, draw nine grid, draw GDI+.
  assert.deepEqual(
    ca.capabilities.map((c) => c.type),
    [0x1, 0x2, 0x3, 0x13, 0xa, 0x7, 0x5, 0x8, 0x9, 0xd, 0xc, 0xe, 0x10, 0xf, 0x11, 0x14, 0x15, 0x16],
  );
  const bitmap = ca.capabilities[1].data;
  assert.deepEqual([u16(bitmap, 0), u16(bitmap, 8), u16(bitmap, 10)], [24, 1280, 1024]);
  assert.deepEqual(encodeActivePdu(ca, "confirm"), SPEC_CONFIRM_ACTIVE_DATA);
  walkConfirmActive(SPEC_CONFIRM_ACTIVE_DATA);
});

Deno.test("rewriteConfirmActiveFrame() applies every capability change and fixes all lengths", () => {
  const before = sdrq(buildModernConfirmActive());
  const b = walkConfirmActiveFrame(before);
  assert.ok(
    b.caps.has(0x1d) && b.caps.get(0x1c)![0] === 0x52 && b.caps.get(2)![19] === 0x0e,
    "fixture sanity",
  );
  const after = rewriteConfirmActiveFrame(before);
  const a = walkConfirmActiveFrame(after);
  assert.equal(after.length, before.length - 28, "Bitmap Codecs set (4 + 24 bytes) removed");
  assert.deepEqual(a.order, b.order.filter((t) => t !== 0x1d), "order kept, only codecs dropped");

  const order = a.caps.get(0x0003)!;
  assert.ok(order.subarray(32, 64).every((x) => x === 0), "orderSupport all zero");
  assert.equal(u16(order, 30), 0x0002 | 0x0008, "orderFlags");
  assert.equal(u16(order, 66), 0, "orderSupportExFlags");
  assert.deepEqual(order.subarray(0, 30), b.caps.get(3)!.subarray(0, 30), "other order fields untouched");
  assert.deepEqual(order.subarray(68), b.caps.get(3)!.subarray(68));
  assert.equal(u32(a.caps.get(0x001c)!, 0), 0, "surface commands cmdFlags");
  assert.equal(a.caps.get(0x0002)![19], 0, "bitmap drawingFlags cleared");
  assert.equal(u16(a.caps.get(0x0010)!, 44), 0, "glyph support level none");
  assert.equal(u32(a.caps.get(0x0011)!, 0), 0, "offscreen support level 0");
  assert.equal(u32(a.caps.get(0x0014)!, 0), 0, "VCCAPS_NO_COMPR");
  for (const t of [0x1, 0x4, 0x8, 0xd, 0x1a, 0x1b]) {
    assert.deepEqual(a.caps.get(t), b.caps.get(t), `set 0x${t.toString(16)} untouched`);
  }
});

Deno.test("rewriteConfirmActive() on the spec trace keeps the count right and can drop Large Pointer", () => {
  const out = rewriteConfirmActive(SPEC_CONFIRM_ACTIVE_DATA);
  const w = walkConfirmActive(out);
  assert.equal(w.order.length, 18);
  assert.equal(out.length, SPEC_CONFIRM_ACTIVE_DATA.length);
  const noLarge = walkConfirmActive(
    rewriteConfirmActive(buildModernConfirmActive(), { dropLargePointer: true }),
  );
  assert.ok(!noLarge.caps.has(0x1b) && !noLarge.caps.has(0x1d));
  assert.equal(noLarge.order.length, 19);
});

Deno.test("summarizeDemandActive() reads desktop size and colour depth from the bitmap set", () => {
  const s = summarizeDemandActive(buildDemandActive(1920, 1080, 32));
  assert.deepEqual(s, {
    shareId: 0x000103ea,
    desktopWidth: 1920,
    desktopHeight: 1080,
    colorDepth: 32,
    generalExtraFlags: 0x041d,
    multifragmentMaxRequestSize: 0x0003f000,
    capabilityTypes: [1, 2, 3, 0x1a],
  });
  const da = parseDemandActive(buildDemandActive());
  assert.equal(da.sessionId, 0);
  assert.deepEqual(encodeActivePdu(da, "demand"), buildDemandActive());
});

Deno.test("active PDU parsers reject inconsistent lengths and wrong types", () => {
  const badCombined = SPEC_CONFIRM_ACTIVE_DATA.slice();
  badCombined[14] += 1;
  const badCapLen = SPEC_CONFIRM_ACTIVE_DATA.slice();
  badCapLen[0x1a + 2] = 2; // first capability length 2 < 4
  const shortOrder = encodeActivePdu({
    ...parseConfirmActive(SPEC_CONFIRM_ACTIVE_DATA),
    capabilities: [{ type: 3, data: new Uint8Array(20) }],
  }, "confirm");
  const cases: [string, () => unknown, string][] = [
    ["demand parser on confirm", () => parseDemandActive(SPEC_CONFIRM_ACTIVE_DATA), "invalid"],
    ["confirm parser on demand", () => parseConfirmActive(buildDemandActive()), "invalid"],
    ["combined length off by one", () => parseConfirmActive(badCombined), "truncated"],
    ["capability length < 4", () => parseConfirmActive(badCapLen), "invalid"],
    ["truncated", () => parseConfirmActive(SPEC_CONFIRM_ACTIVE_DATA.subarray(0, 100)), "length_mismatch"],
    ["order set too short to rewrite", () => rewriteConfirmActive(shortOrder), "invalid"],
  ];
  for (const [name, fn, code] of cases) assert.equal(codeOf(fn), code, name);
});
