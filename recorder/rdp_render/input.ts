// Client input (MS-RDPBCGR 2.2.8.1.2 fast-path, 2.2.8.1.1.3 slow-path TS_INPUT_PDU_DATA): only the
// pointer position matters for rendering, so we return the last absolute mouse position, if any.

import { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError } from "./errors.ts";
import { PDUTYPE2_INPUT, PDUTYPE_DATA, shareDataType, sharePdus } from "./slowpath.ts";

const FASTPATH_INPUT_ENCRYPTED = 0x2;
const PTRFLAGS_WHEEL = 0x0200;
const PTRFLAGS_HWHEEL = 0x0400;

export interface Point {
  x: number;
  y: number;
}

/** One or more TS_FP_INPUT_PDUs, each with its fpInputHeader. */
export function lastFastPathPointer(bytes: Uint8Array): Point | null {
  const r = new ByteReader(bytes);
  let last: Point | null = null;
  while (r.remaining > 0) {
    const start = r.pos;
    const hdr = r.u8("fpInputHeader");
    if ((hdr & 0x3) !== 0) throw malformed(`not a fast-path input PDU (action ${hdr & 0x3})`);
    if ((hdr >> 6) & FASTPATH_INPUT_ENCRYPTED) {
      throw new RenderError("encrypted", "encrypted fast-path input");
    }
    const l1 = r.u8("length1");
    const length = l1 & 0x80 ? ((l1 & 0x7f) << 8) | r.u8("length2") : l1;
    if (length < r.pos - start) throw malformed(`fast-path input length ${length}`);
    const pdu = r.sub(length - (r.pos - start), "fast-path input PDU");
    let events = (hdr >> 2) & 0x0f;
    if (events === 0) events = pdu.u8("numEvents");
    for (let i = 0; i < events; i++) {
      const eh = pdu.u8("eventHeader");
      switch (eh >> 5) {
        case 0: // SCANCODE
          pdu.skip(1);
          break;
        case 1: // MOUSE
        case 2: { // MOUSEX
          const flags = pdu.u16("pointerFlags"), x = pdu.u16("xPos"), y = pdu.u16("yPos");
          if (!(flags & (PTRFLAGS_WHEEL | PTRFLAGS_HWHEEL))) last = { x, y };
          break;
        }
        case 3: // SYNC
          break;
        case 4: // UNICODE
          pdu.skip(2);
          break;
        case 6: // QOE_TIMESTAMP
          pdu.skip(4);
          break;
        case 7: // RELMOUSE: relative, no absolute position
          pdu.skip(6);
          break;
        default:
          throw malformed(`unknown fast-path input event ${eh >> 5}`);
      }
    }
  }
  return last;
}

/** Share-control PDU(s) carrying TS_INPUT_PDU_DATA. */
export function lastSlowPathPointer(bytes: Uint8Array): Point | null {
  let last: Point | null = null;
  for (const { type, body } of sharePdus(bytes)) {
    if (type !== PDUTYPE_DATA || shareDataType(body) !== PDUTYPE2_INPUT) continue;
    const n = body.u16("numEvents");
    body.skip(2, "pad2Octets");
    for (let i = 0; i < n; i++) {
      body.skip(4, "eventTime");
      const messageType = body.u16("messageType");
      const ev = body.sub(6, "input event");
      if (messageType === 0x8001 || messageType === 0x8002) { // MOUSE, MOUSEX
        const flags = ev.u16("pointerFlags"), x = ev.u16("xPos"), y = ev.u16("yPos");
        if (!(flags & (PTRFLAGS_WHEEL | PTRFLAGS_HWHEEL))) last = { x, y };
      }
    }
  }
  return last;
}
