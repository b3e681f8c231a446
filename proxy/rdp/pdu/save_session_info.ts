/**
 * Save Session Info PDU data (MS-RDPBCGR 2.2.10.1): only its infoType is read. Any logon type means the
 * user is now logged on, which ends the "possible credentials" phase of keystroke logging. The payload
 * (which may hold an auto-reconnect cookie) is never exposed.
 */
import { ByteReader } from "./reader.ts";

export const INFOTYPE_LOGON = 0;
export const INFOTYPE_LOGON_LONG = 1;
export const INFOTYPE_LOGON_PLAINNOTIFY = 2;
export const INFOTYPE_LOGON_EXTENDED_INFO = 3;

/** infoType of the Save Session Info data (after the share data header). */
export function parseSaveSessionInfoType(data: Uint8Array): number {
  return new ByteReader(data, "save session info").u32le("infoType");
}
