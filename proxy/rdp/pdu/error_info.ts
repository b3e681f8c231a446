/** Set Error Info PDU (MS-RDPBCGR 2.2.5.1.1): how the proxy tells a client why it is disconnected. */
import { ensure } from "./errors.ts";
import { encodeMcsFrame } from "./mcs_domain.ts";
import { ByteReader, ByteWriter } from "./reader.ts";
import {
  encodeSharePdu,
  parseShareControlPdu,
  parseShareDataHeader,
  PDUTYPE2_SET_ERROR_INFO_PDU,
  PDUTYPE_DATAPDU,
} from "./share.ts";

export const ERRINFO_RPC_INITIATED_DISCONNECT = 0x00000001;
export const ERRINFO_RPC_INITIATED_LOGOFF = 0x00000002;
export const ERRINFO_IDLE_TIMEOUT = 0x00000003;
export const ERRINFO_LOGON_TIMEOUT = 0x00000004;
export const ERRINFO_DISCONNECTED_BY_OTHERCONNECTION = 0x00000005;
export const ERRINFO_SERVER_DENIED_CONNECTION = 0x00000007;
export const ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES = 0x00000009;
export const ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER = 0x0000000b;
export const ERRINFO_LOGOFF_BY_USER = 0x0000000c;

export interface SetErrorInfoOptions {
  errorInfo: number;
  /** MCS initiator of the SDin: the server's user channel (GCC node id), usually 1002. */
  initiator?: number;
  /** The I/O channel id from SC_NET, usually 1003. */
  channelId?: number;
  /** shareId from the Demand Active; 0 before capabilities were exchanged. */
  shareId?: number;
  /** Share Control pduSource (server channel id, usually 1002). */
  pduSource?: number;
}

/** A complete server->client frame: TPKT + X.224 DT + MCS SDin + share control/data + errorInfo. */
export function encodeSetErrorInfoFrame(o: SetErrorInfoOptions): Uint8Array {
  const data = new ByteWriter(4).u32le(o.errorInfo, "errorInfo").finish();
  const userData = encodeSharePdu({
    pduType: PDUTYPE_DATAPDU,
    pduSource: o.pduSource ?? 1002,
    shareId: o.shareId ?? 0,
    pduType2: PDUTYPE2_SET_ERROR_INFO_PDU,
    data,
  });
  return encodeMcsFrame({
    type: "sendDataIndication",
    initiator: o.initiator ?? 1002,
    channelId: o.channelId ?? 1003,
    priority: 1,
    segmentation: 3,
    userData,
  });
}

/** errorInfo of a Set Error Info PDU userData, or null when the userData is another data PDU. */
export function parseSetErrorInfo(userData: Uint8Array): number | null {
  const sc = parseShareControlPdu(userData);
  if (sc.isFlow || sc.pduType !== PDUTYPE_DATAPDU) return null;
  const sd = parseShareDataHeader(sc.body);
  if (sd.pduType2 !== PDUTYPE2_SET_ERROR_INFO_PDU) return null;
  ensure(sd.compressedType === 0, "unsupported", "set error info: compressed");
  const r = new ByteReader(sd.data, "set error info");
  const v = r.u32le("errorInfo");
  r.expectEnd("set error info");
  return v;
}
