/**
 * MCS domain PDUs (T.125 section 7 parts 3-10, ALIGNED PER) used by RDP: Erect Domain, Attach User,
 * Channel Join, Send Data, Disconnect Provider Ultimatum. The first byte is the 6-bit CHOICE index
 * followed by 2 bits that belong to the chosen type.
 */
import { type EncodedLength, perEncodeLength, perReadLength } from "./asn1.ts";
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter } from "./reader.ts";
import { encodeX224Data, parseX224Data } from "./x224.ts";

export const MCS_BASE_CHANNEL_ID = 1001;

export const DOMAIN_ERECT_DOMAIN_REQUEST = 1;
export const DOMAIN_DISCONNECT_PROVIDER_ULTIMATUM = 8;
export const DOMAIN_ATTACH_USER_REQUEST = 10;
export const DOMAIN_ATTACH_USER_CONFIRM = 11;
export const DOMAIN_CHANNEL_JOIN_REQUEST = 14;
export const DOMAIN_CHANNEL_JOIN_CONFIRM = 15;
export const DOMAIN_SEND_DATA_REQUEST = 25;
export const DOMAIN_SEND_DATA_INDICATION = 26;

export const RN_DOMAIN_DISCONNECTED = 0;
export const RN_PROVIDER_INITIATED = 1;
export const RN_TOKEN_PURGED = 2;
export const RN_USER_REQUESTED = 3;
export const RN_CHANNEL_PURGED = 4;

export type McsDomainPdu =
  | { type: "erectDomainRequest"; subHeight: number; subInterval: number }
  | { type: "disconnectProviderUltimatum"; reason: number }
  | { type: "attachUserRequest" }
  | { type: "attachUserConfirm"; result: number; initiator: number | null }
  | { type: "channelJoinRequest"; initiator: number; channelId: number }
  | {
    type: "channelJoinConfirm";
    result: number;
    initiator: number;
    requested: number;
    channelId: number | null;
  }
  | {
    type: "sendDataRequest" | "sendDataIndication";
    initiator: number;
    channelId: number;
    /** 0 top, 1 high, 2 medium, 3 low. */
    priority: number;
    /** Bit 0x2 begin, 0x1 end (RDP always sends 3). */
    segmentation: number;
    userData: Uint8Array;
    /** Width of the userData PER length as received (1 or 2); reused when re-encoding. */
    lengthWidth?: number;
  }
  /** A valid DomainMCSPDU choice that RDP does not use; forwarded opaquely. */
  | { type: "other"; choice: number; raw: Uint8Array };

/** PER INTEGER with a length octet (T.125 subHeight/subInterval): 1..4 value bytes. */
function readPerInteger(r: ByteReader, what: string): number {
  const n = r.u8(`${what} length`);
  ensure(n >= 1 && n <= 4, "invalid", `mcs: ${what} integer length ${n}`);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + r.u8(what);
  return v;
}

function writePerInteger(w: ByteWriter, v: number, what: string): void {
  ensure(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, "too_large", `mcs: ${what}=${v}`);
  const n = v < 0x100 ? 1 : v < 0x10000 ? 2 : 4;
  w.u8(n);
  for (let i = n - 1; i >= 0; i--) w.u8(Math.floor(v / 2 ** (8 * i)) & 0xff);
}

/** Result is a 4-bit ENUMERATED straddling the choice byte's last bit and the next byte's top 3 bits. */
function readResult(first: number, r: ByteReader): number {
  return ((first & 1) << 3) | (r.u8("result") >> 5);
}

export function parseMcsDomainPdu(mcs: Uint8Array): McsDomainPdu {
  const r = new ByteReader(mcs, "mcs domain");
  const first = r.u8("choice");
  const choice = first >> 2;
  let pdu: McsDomainPdu;
  switch (choice) {
    case DOMAIN_ERECT_DOMAIN_REQUEST:
      pdu = {
        type: "erectDomainRequest",
        subHeight: readPerInteger(r, "subHeight"),
        subInterval: readPerInteger(r, "subInterval"),
      };
      break;
    case DOMAIN_DISCONNECT_PROVIDER_ULTIMATUM: {
      const reason = ((first & 3) << 1) | (r.u8("reason") >> 7);
      ensure(reason <= RN_CHANNEL_PURGED, "invalid", `mcs: DPUm reason ${reason}`);
      pdu = { type: "disconnectProviderUltimatum", reason };
      break;
    }
    case DOMAIN_ATTACH_USER_REQUEST:
      pdu = { type: "attachUserRequest" };
      break;
    case DOMAIN_ATTACH_USER_CONFIRM: {
      const result = readResult(first, r);
      const initiator = first & 2 ? r.u16be("initiator") + MCS_BASE_CHANNEL_ID : null;
      pdu = { type: "attachUserConfirm", result, initiator };
      break;
    }
    case DOMAIN_CHANNEL_JOIN_REQUEST:
      pdu = {
        type: "channelJoinRequest",
        initiator: r.u16be("initiator") + MCS_BASE_CHANNEL_ID,
        channelId: r.u16be("channelId"),
      };
      break;
    case DOMAIN_CHANNEL_JOIN_CONFIRM: {
      const result = readResult(first, r);
      const initiator = r.u16be("initiator") + MCS_BASE_CHANNEL_ID;
      const requested = r.u16be("requested");
      const channelId = first & 2 ? r.u16be("channelId") : null;
      pdu = { type: "channelJoinConfirm", result, initiator, requested, channelId };
      break;
    }
    case DOMAIN_SEND_DATA_REQUEST:
    case DOMAIN_SEND_DATA_INDICATION: {
      const initiator = r.u16be("initiator") + MCS_BASE_CHANNEL_ID;
      const channelId = r.u16be("channelId");
      const ps = r.u8("priority/segmentation");
      const len: EncodedLength = perReadLength(r);
      const userData = r.bytesView(len.value, "userData");
      pdu = {
        type: choice === DOMAIN_SEND_DATA_REQUEST ? "sendDataRequest" : "sendDataIndication",
        initiator,
        channelId,
        priority: ps >> 6,
        segmentation: (ps >> 4) & 3,
        userData,
        lengthWidth: len.width,
      };
      break;
    }
    default:
      ensure(choice <= 42, "invalid", `mcs: DomainMCSPDU choice ${choice} out of range`);
      return { type: "other", choice, raw: mcs };
  }
  r.expectEnd(pdu.type);
  return pdu;
}

function userId(v: number): number {
  ensure(v >= MCS_BASE_CHANNEL_ID, "invalid", `mcs: user id ${v} below 1001`);
  return v - MCS_BASE_CHANNEL_ID;
}

function resultBits(result: number): [number, number] {
  ensure(Number.isInteger(result) && result >= 0 && result <= 15, "invalid", `mcs: result ${result}`);
  return [result >> 3, (result & 7) << 5];
}

export function encodeMcsDomainPdu(pdu: McsDomainPdu): Uint8Array {
  const w = new ByteWriter(16);
  switch (pdu.type) {
    case "erectDomainRequest":
      w.u8(DOMAIN_ERECT_DOMAIN_REQUEST << 2);
      writePerInteger(w, pdu.subHeight, "subHeight");
      writePerInteger(w, pdu.subInterval, "subInterval");
      break;
    case "disconnectProviderUltimatum":
      ensure(pdu.reason >= 0 && pdu.reason <= RN_CHANNEL_PURGED, "invalid", `mcs: DPUm reason ${pdu.reason}`);
      w.u8((DOMAIN_DISCONNECT_PROVIDER_ULTIMATUM << 2) | (pdu.reason >> 1)).u8((pdu.reason & 1) << 7);
      break;
    case "attachUserRequest":
      w.u8(DOMAIN_ATTACH_USER_REQUEST << 2);
      break;
    case "attachUserConfirm": {
      const [hi, lo] = resultBits(pdu.result);
      w.u8((DOMAIN_ATTACH_USER_CONFIRM << 2) | (pdu.initiator !== null ? 2 : 0) | hi).u8(lo);
      if (pdu.initiator !== null) w.u16be(userId(pdu.initiator));
      break;
    }
    case "channelJoinRequest":
      w.u8(DOMAIN_CHANNEL_JOIN_REQUEST << 2).u16be(userId(pdu.initiator)).u16be(pdu.channelId);
      break;
    case "channelJoinConfirm": {
      const [hi, lo] = resultBits(pdu.result);
      w.u8((DOMAIN_CHANNEL_JOIN_CONFIRM << 2) | (pdu.channelId !== null ? 2 : 0) | hi).u8(lo);
      w.u16be(userId(pdu.initiator)).u16be(pdu.requested);
      if (pdu.channelId !== null) w.u16be(pdu.channelId);
      break;
    }
    case "sendDataRequest":
    case "sendDataIndication": {
      const choice = pdu.type === "sendDataRequest" ? DOMAIN_SEND_DATA_REQUEST : DOMAIN_SEND_DATA_INDICATION;
      ensure(pdu.priority >= 0 && pdu.priority <= 3, "invalid", "mcs: priority");
      ensure(pdu.segmentation >= 0 && pdu.segmentation <= 3, "invalid", "mcs: segmentation");
      w.u8(choice << 2).u16be(userId(pdu.initiator)).u16be(pdu.channelId);
      w.u8((pdu.priority << 6) | (pdu.segmentation << 4));
      w.bytes(perEncodeLength(pdu.userData.length, pdu.lengthWidth)).bytes(pdu.userData);
      break;
    }
    case "other":
      return pdu.raw.slice();
  }
  return w.finish();
}

/** TPKT + X.224 DT + domain PDU, in one step. */
export function parseMcsFrame(frame: Uint8Array): McsDomainPdu {
  return parseMcsDomainPdu(parseX224Data(frame));
}

export function encodeMcsFrame(pdu: McsDomainPdu): Uint8Array {
  return encodeX224Data(encodeMcsDomainPdu(pdu));
}

/** A whole Disconnect Provider Ultimatum frame (default reason rn-user-requested). */
export function encodeDisconnectProviderUltimatum(reason = RN_USER_REQUESTED): Uint8Array {
  return encodeMcsFrame({ type: "disconnectProviderUltimatum", reason });
}

/** Re-wrap new userData in the same Send Data Request/Indication (lengths recomputed). */
export function replaceSendDataUserData(frame: Uint8Array, userData: Uint8Array): Uint8Array {
  const pdu = parseMcsFrame(frame);
  ensure(
    pdu.type === "sendDataRequest" || pdu.type === "sendDataIndication",
    "invalid",
    "mcs: not a Send Data PDU",
  );
  return encodeMcsFrame({ ...pdu, userData });
}
