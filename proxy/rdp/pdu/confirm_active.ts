/**
 * The Confirm Active rewrite that forces the server onto plain bitmap updates (shared/notes/rdp-mitm.md
 * section 2, "Capability rewrite"). Every length (capability, combined, count, share control, MCS
 * PER, TPKT) is recomputed.
 */
import {
  type CapabilitySet,
  CAPSETTYPE_BITMAP_CODECS,
  CAPSETTYPE_LARGE_POINTER,
  CAPSETTYPE_SURFACE_COMMANDS,
  CAPSTYPE_BITMAP,
  CAPSTYPE_GLYPHCACHE,
  CAPSTYPE_OFFSCREENCACHE,
  CAPSTYPE_ORDER,
  CAPSTYPE_VIRTUALCHANNEL,
  encodeActivePdu,
  parseConfirmActive,
} from "./capabilities.ts";
import { ensure } from "./errors.ts";
import { parseMcsFrame, replaceSendDataUserData } from "./mcs_domain.ts";
import { patchU16le, patchU32le } from "./reader.ts";

export const NEGOTIATEORDERSUPPORT = 0x0002;
export const ZEROBOUNDSDELTASSUPPORT = 0x0008;
export const DRAWING_FLAGS_CLEARED = 0x02 | 0x04 | 0x08; // dynamic colour fidelity, subsampling, skip alpha
export const GLYPH_SUPPORT_NONE = 0;
export const VCCAPS_NO_COMPR = 0;

/** Offsets inside capability data (after the 4-byte header) and the minimum data size to patch. */
const ORDER = { orderFlags: 30, orderSupport: 32, orderSupportExFlags: 66, min: 68 };
const BITMAP = { drawingFlags: 19, min: 20 };
const GLYPH = { supportLevel: 44, min: 46 };

export interface ConfirmActiveRewriteOptions {
  /** Also drop the Large Pointer capability (pointers stay <= 32x32). Default false. */
  dropLargePointer?: boolean;
}

function need(c: CapabilitySet, min: number, name: string): Uint8Array {
  ensure(c.data.length >= min, "invalid", `confirm active: ${name} capability too short (${c.data.length})`);
  return c.data.slice();
}

function rewriteSet(c: CapabilitySet): CapabilitySet {
  let data = c.data;
  switch (c.type) {
    case CAPSTYPE_ORDER:
      data = need(c, ORDER.min, "order");
      data.fill(0, ORDER.orderSupport, ORDER.orderSupport + 32);
      patchU16le(data, ORDER.orderFlags, NEGOTIATEORDERSUPPORT | ZEROBOUNDSDELTASSUPPORT);
      patchU16le(data, ORDER.orderSupportExFlags, 0);
      break;
    case CAPSTYPE_BITMAP:
      data = need(c, BITMAP.min, "bitmap");
      data[BITMAP.drawingFlags] &= ~DRAWING_FLAGS_CLEARED;
      break;
    case CAPSETTYPE_SURFACE_COMMANDS:
      data = need(c, 4, "surface commands");
      patchU32le(data, 0, 0);
      break;
    case CAPSTYPE_GLYPHCACHE:
      data = need(c, GLYPH.min, "glyph cache");
      patchU16le(data, GLYPH.supportLevel, GLYPH_SUPPORT_NONE);
      break;
    case CAPSTYPE_OFFSCREENCACHE:
      data = need(c, 4, "offscreen cache");
      patchU32le(data, 0, 0);
      break;
    case CAPSTYPE_VIRTUALCHANNEL:
      data = need(c, 4, "virtual channel");
      patchU32le(data, 0, VCCAPS_NO_COMPR);
      break;
  }
  return { type: c.type, data };
}

/** userData in (the TS_CONFIRM_ACTIVE_PDU), rewritten userData out. */
export function rewriteConfirmActive(
  userData: Uint8Array,
  opts: ConfirmActiveRewriteOptions = {},
): Uint8Array {
  const pdu = parseConfirmActive(userData);
  const capabilities = pdu.capabilities
    .filter((c) => c.type !== CAPSETTYPE_BITMAP_CODECS)
    .filter((c) => !(opts.dropLargePointer && c.type === CAPSETTYPE_LARGE_POINTER))
    .map(rewriteSet);
  return encodeActivePdu({ ...pdu, capabilities }, "confirm");
}

/** Whole TPKT frame (SDrq on the I/O channel) in, rewritten frame out. */
export function rewriteConfirmActiveFrame(
  frame: Uint8Array,
  opts: ConfirmActiveRewriteOptions = {},
): Uint8Array {
  const pdu = parseMcsFrame(frame);
  ensure(pdu.type === "sendDataRequest", "invalid", "confirm active: not an MCS Send Data Request");
  return replaceSendDataUserData(frame, rewriteConfirmActive(pdu.userData, opts));
}
