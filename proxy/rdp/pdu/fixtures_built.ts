/**
 * Hand-built fixtures that follow the spec layouts (for PDUs whose spec traces are encrypted or
 * absent). Shared by the unit tests and fuzz_test.ts; not used by production code.
 */
import { encodeActivePdu, parseConfirmActive } from "./capabilities.ts";
import { SPEC_CONFIRM_ACTIVE_DATA } from "./fixtures_spec.ts";
import { encodeMcsFrame } from "./mcs_domain.ts";
import { ByteWriter, encodeUtf16, hex } from "./reader.ts";
import { encodeSharePdu } from "./share.ts";

export function sdrq(userData: Uint8Array, channelId = 1003): Uint8Array {
  return encodeMcsFrame({
    type: "sendDataRequest",
    initiator: 1007,
    channelId,
    priority: 1,
    segmentation: 3,
    userData,
  });
}
export function sdin(userData: Uint8Array, channelId = 1003): Uint8Array {
  return encodeMcsFrame({
    type: "sendDataIndication",
    initiator: 1002,
    channelId,
    priority: 1,
    segmentation: 3,
    userData,
  });
}

const z = (s: string) => encodeUtf16(s + "\0");

/** Client Info userData (security header + TS_INFO_PACKET + extended info with an ARC cookie). */
export function buildClientInfo(
  opts: { flags?: number; password?: string; arcLogonId?: number } = {},
): Uint8Array {
  const flags = opts.flags ?? 0x000b47fb; // xfreerdp default per the notes: compression type 3
  const domain = encodeUtf16("CORP");
  const user = encodeUtf16("alice");
  const password = encodeUtf16(opts.password ?? "s3cret!");
  const shell = encodeUtf16("");
  const dir = encodeUtf16("C:\\work");
  const w = new ByteWriter(512).u16le(0x0040).u16le(0); // SEC_INFO_PKT, flagsHi
  w.u32le(0x0409).u32le(flags);
  for (const s of [domain, user, password, shell, dir]) w.u16le(s.length);
  for (const s of [domain, user, password, shell, dir]) w.bytes(s).u16le(0);
  const addr = z("192.0.2.7");
  const cdir = z("C:\\Windows\\System32\\mstscax.dll");
  w.u16le(2).u16le(addr.length).bytes(addr).u16le(cdir.length).bytes(cdir);
  w.zeros(172).u32le(0).u32le(0x00000007); // clientTimeZone, clientSessionId, performanceFlags
  if (opts.arcLogonId !== undefined) {
    w.u16le(28).u32le(28).u32le(1).u32le(opts.arcLogonId).zeros(16);
  } else {
    w.u16le(0);
  }
  w.u16le(0).u16le(0); // reserved1, reserved2
  return w.finish();
}

/** Server Demand Active userData: general, bitmap (24 bpp 1024x768), order, multifragment caps. */
export function buildDemandActive(width = 1024, height = 768, bpp = 24): Uint8Array {
  const general = new ByteWriter(20).u16le(1).u16le(3).u16le(0x200).u16le(0).u16le(0).u16le(0x041d)
    .u16le(0).u16le(0).u16le(0).u8(1).u8(1).finish();
  const bitmap = new ByteWriter(24).u16le(bpp).u16le(1).u16le(1).u16le(1).u16le(width).u16le(height)
    .u16le(0).u16le(1).u16le(1).u8(0).u8(0x0e).u16le(1).u16le(0).finish();
  const order = new ByteWriter(84).zeros(30).u16le(0x22).zeros(32).u16le(0).u16le(0).zeros(16).finish();
  const mf = new ByteWriter(4).u32le(0x0003f000).finish();
  return encodeActivePdu({
    pduSource: 1002,
    shareId: 0x000103ea,
    sourceDescriptor: Uint8Array.of(0x52, 0x44, 0x50, 0x00),
    pad2: 0,
    capabilities: [
      { type: 0x0001, data: general },
      { type: 0x0002, data: bitmap },
      { type: 0x0003, data: order },
      { type: 0x001a, data: mf },
    ],
    sessionId: 0,
  }, "demand");
}

/**
 * The spec's Confirm Active plus the sets modern clients add: Surface Commands (cmdFlags 0x52),
 * Bitmap Codecs (a RemoteFX-looking entry), Large Pointer; bitmap drawingFlags set to 0x0e.
 */
export function buildModernConfirmActive(): Uint8Array {
  const ca = parseConfirmActive(SPEC_CONFIRM_ACTIVE_DATA);
  const caps = ca.capabilities.map((c) => {
    if (c.type !== 0x0002) return c;
    const data = c.data.slice();
    data[19] = 0x0e;
    return { type: c.type, data };
  });
  caps.push({ type: 0x001c, data: hex("52 00 00 00 00 00 00 00") });
  caps.push({
    type: 0x001d,
    data: hex("01 12 2f 77 76 72 bd 63 44 af b3 b7 3c 9c 6f 78 86 03 00 04 00 00 00 00"),
  });
  caps.push({ type: 0x001b, data: hex("01 00") });
  return encodeActivePdu({ ...ca, capabilities: caps }, "confirm");
}

/** A slow-path Input PDU userData (share control + share data pduType2 0x1c). */
export function buildSlowPathInput(events: Uint8Array[]): Uint8Array {
  const w = new ByteWriter(64).u16le(events.length).u16le(0);
  for (const e of events) w.bytes(e);
  return encodeSharePdu({
    pduType: 0x7,
    pduSource: 1007,
    shareId: 0x103ea,
    pduType2: 0x1c,
    data: w.finish(),
  });
}

export function slowKey(keyCode: number, flags: number): Uint8Array {
  return new ByteWriter(12).u32le(0).u16le(0x0004).u16le(flags).u16le(keyCode).u16le(0).finish();
}

/** A cliprdr message: CLIPRDR_HEADER + body. */
export function cliprdrMessage(type: number, flags: number, body: Uint8Array): Uint8Array {
  return new ByteWriter(8 + body.length).u16le(type).u16le(flags).u32le(body.length).bytes(body).finish();
}

/** One FILEDESCRIPTORW (592 bytes) with FD_ATTRIBUTES | FD_FILESIZE | FD_WRITESTIME | FD_SHOWPROGRESSUI. */
export function fileDescriptor(name: string, size: number, dir = false): Uint8Array {
  const nameBytes = new Uint8Array(520);
  nameBytes.set(encodeUtf16(name).subarray(0, 518));
  return new ByteWriter(592).u32le(0x4064).zeros(32).u32le(dir ? 0x10 : 0x20).zeros(16).zeros(8)
    .u32le(Math.floor(size / 0x100000000)).u32le(size >>> 0).bytes(nameBytes).finish();
}

/** One DEVICE_ANNOUNCE. */
export function rdpdrDevice(type: number, id: number, dos: string, data: Uint8Array): Uint8Array {
  const name = new Uint8Array(8);
  name.set(new TextEncoder().encode(dos).subarray(0, 7));
  return new ByteWriter(32).u32le(type).u32le(id).bytes(name).u32le(data.length).bytes(data).finish();
}
