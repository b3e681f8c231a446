/**
 * Client input: fast-path input PDUs (2.2.8.1.2) and slow-path TS_INPUT_PDU (2.2.8.1.1.3), both
 * normalised to one InputEvent type.
 */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter, concat } from "./reader.ts";
import { parseShareControlPdu, parseShareDataHeader, PDUTYPE2_INPUT, PDUTYPE_DATAPDU } from "./share.ts";
import { encodeFastPathHeader, peekFastPathHeader } from "./tpkt.ts";

export const FASTPATH_INPUT_ENCRYPTED = 0x2;
export const SYNC_SCROLL_LOCK = 0x1;
export const SYNC_NUM_LOCK = 0x2;
export const SYNC_CAPS_LOCK = 0x4;
export const SYNC_KANA_LOCK = 0x8;

export type InputEvent =
  | { type: "scancode"; keyCode: number; release: boolean; extended: boolean; extended1: boolean }
  | { type: "mouse" | "mousex"; pointerFlags: number; x: number; y: number }
  | { type: "relmouse"; pointerFlags: number; dx: number; dy: number }
  /** toggleFlags: SYNC_SCROLL_LOCK | SYNC_NUM_LOCK | SYNC_CAPS_LOCK | SYNC_KANA_LOCK. */
  | { type: "sync"; toggleFlags: number }
  | { type: "unicode"; code: number; release: boolean }
  | { type: "qoe"; timestamp: number }
  /** Slow-path INPUT_EVENT_UNUSED. */
  | { type: "unused" };

const FP_SCANCODE = 0;
const FP_MOUSE = 1;
const FP_MOUSEX = 2;
const FP_SYNC = 3;
const FP_UNICODE = 4;
const FP_RELMOUSE = 5;
const FP_QOE = 6;

export interface FastPathInputPdu {
  flags: number;
  longLength: boolean;
  events: InputEvent[];
}

export function parseFastPathInput(frame: Uint8Array): FastPathInputPdu {
  const h = peekFastPathHeader(frame);
  ensure(h !== null, "truncated", "fast-path input: incomplete header");
  ensure(
    h.length === frame.length,
    "length_mismatch",
    `fast-path input: length ${h.length}, frame ${frame.length}`,
  );
  ensure(
    (h.flags & FASTPATH_INPUT_ENCRYPTED) === 0,
    "unsupported",
    "fast-path input: encrypted (standard RDP security)",
  );
  const r = new ByteReader(frame, "fast-path input");
  r.skip(h.headerLength, "header");
  // numEvents 0 in the header means a count byte follows (used for more than 15 events).
  const count = h.numEventsOrReserved || r.u8("numEvents");
  const events: InputEvent[] = [];
  for (let i = 0; i < count; i++) {
    const hdr = r.u8("eventHeader");
    const flags = hdr & 0x1f;
    switch (hdr >> 5) {
      case FP_SCANCODE:
        events.push({
          type: "scancode",
          keyCode: r.u8("keyCode"),
          release: (flags & 0x1) !== 0,
          extended: (flags & 0x2) !== 0,
          extended1: (flags & 0x4) !== 0,
        });
        break;
      case FP_MOUSE:
      case FP_MOUSEX:
        events.push({
          type: hdr >> 5 === FP_MOUSE ? "mouse" : "mousex",
          pointerFlags: r.u16le("pointerFlags"),
          x: r.u16le("xPos"),
          y: r.u16le("yPos"),
        });
        break;
      case FP_SYNC:
        events.push({ type: "sync", toggleFlags: flags });
        break;
      case FP_UNICODE:
        events.push({ type: "unicode", code: r.u16le("unicodeCode"), release: (flags & 0x1) !== 0 });
        break;
      case FP_RELMOUSE:
        events.push({
          type: "relmouse",
          pointerFlags: r.u16le("pointerFlags"),
          dx: r.i16le("xDelta"),
          dy: r.i16le("yDelta"),
        });
        break;
      case FP_QOE:
        events.push({ type: "qoe", timestamp: r.u32le("timestamp") });
        break;
      default:
        ensure(false, "unsupported", `fast-path input: event code ${hdr >> 5}`);
    }
  }
  r.expectEnd("fast-path input events");
  return { flags: h.flags, longLength: h.headerLength === 3, events };
}

export function encodeFastPathInput(events: InputEvent[], opts: { longLength?: boolean } = {}): Uint8Array {
  const w = new ByteWriter(64);
  const inHeader = events.length > 0 && events.length <= 15;
  if (!inHeader) w.u8(events.length, "numEvents");
  for (const e of events) {
    switch (e.type) {
      case "scancode":
        w.u8((FP_SCANCODE << 5) | (e.release ? 1 : 0) | (e.extended ? 2 : 0) | (e.extended1 ? 4 : 0)).u8(
          e.keyCode,
        );
        break;
      case "mouse":
      case "mousex":
        w.u8((e.type === "mouse" ? FP_MOUSE : FP_MOUSEX) << 5).u16le(e.pointerFlags).u16le(e.x).u16le(e.y);
        break;
      case "sync":
        ensure(e.toggleFlags <= 0x1f, "invalid", "sync flags");
        w.u8((FP_SYNC << 5) | e.toggleFlags);
        break;
      case "unicode":
        w.u8((FP_UNICODE << 5) | (e.release ? 1 : 0)).u16le(e.code);
        break;
      case "relmouse":
        w.u8(FP_RELMOUSE << 5).u16le(e.pointerFlags).u16le(e.dx & 0xffff).u16le(e.dy & 0xffff);
        break;
      case "qoe":
        w.u8(FP_QOE << 5).u32le(e.timestamp);
        break;
      case "unused":
        ensure(false, "invalid", "fast-path input has no unused event");
    }
  }
  const body = w.finish();
  return concat(
    encodeFastPathHeader((inHeader ? events.length : 0) << 2, body.length, opts.longLength),
    body,
  );
}

const KBDFLAGS_EXTENDED = 0x0100;
const KBDFLAGS_EXTENDED1 = 0x0200;
const KBDFLAGS_RELEASE = 0x8000;

/** TS_INPUT_PDU_DATA (after the share data header): numEvents, pad2, then 12-byte events. */
export function parseSlowPathInputData(data: Uint8Array): InputEvent[] {
  const r = new ByteReader(data, "slow-path input");
  const count = r.u16le("numEvents");
  r.skip(2, "pad2Octets");
  const events: InputEvent[] = [];
  for (let i = 0; i < count; i++) {
    r.u32le("eventTime");
    const type = r.u16le("messageType");
    const e = r.sub(6, "slowPathInputData");
    switch (type) {
      case 0x0000:
        e.skip(2, "pad2Octets");
        events.push({ type: "sync", toggleFlags: e.u32le("toggleFlags") });
        break;
      case 0x0002:
        events.push({ type: "unused" });
        break;
      case 0x0004: {
        const f = e.u16le("keyboardFlags");
        const keyCode = e.u16le("keyCode");
        ensure(keyCode <= 0xff, "invalid", `slow-path input: keyCode ${keyCode}`);
        events.push({
          type: "scancode",
          keyCode,
          release: (f & KBDFLAGS_RELEASE) !== 0,
          extended: (f & KBDFLAGS_EXTENDED) !== 0,
          extended1: (f & KBDFLAGS_EXTENDED1) !== 0,
        });
        break;
      }
      case 0x0005: {
        const f = e.u16le("keyboardFlags");
        events.push({ type: "unicode", code: e.u16le("unicodeCode"), release: (f & KBDFLAGS_RELEASE) !== 0 });
        break;
      }
      case 0x8001:
      case 0x8002:
        events.push({
          type: type === 0x8001 ? "mouse" : "mousex",
          pointerFlags: e.u16le(),
          x: e.u16le(),
          y: e.u16le(),
        });
        break;
      case 0x8004:
        events.push({ type: "relmouse", pointerFlags: e.u16le(), dx: e.i16le(), dy: e.i16le() });
        break;
      default:
        ensure(false, "unsupported", `slow-path input: messageType 0x${type.toString(16)}`);
    }
  }
  r.expectEnd("slow-path input events");
  return events;
}

/** Events of a slow-path Input PDU userData, or null when the userData is another PDU. */
export function parseSlowPathInputPdu(userData: Uint8Array): InputEvent[] | null {
  const sc = parseShareControlPdu(userData);
  if (sc.isFlow || sc.pduType !== PDUTYPE_DATAPDU) return null;
  const sd = parseShareDataHeader(sc.body);
  if (sd.pduType2 !== PDUTYPE2_INPUT) return null;
  ensure((sd.compressedType & 0x20) === 0, "unsupported", "slow-path input: compressed");
  return parseSlowPathInputData(sd.data);
}
