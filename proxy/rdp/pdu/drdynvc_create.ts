/**
 * The one drdynvc message the proxy inspects: DYNVC_CREATE_REQ (MS-RDPEDYC 2.2.2.1), so a server that
 * opens the graphics pipeline despite the downgrade is caught (recordings could not render it).
 */
import { ensure } from "./errors.ts";
import { ByteReader, decodeAsciiz } from "./reader.ts";

export const DYNVC_CMD_CREATE = 0x01;
export const GFX_CHANNEL_NAME = "Microsoft::Windows::RDS::Graphics";
/** Longest channel name we read (names are short ANSI strings). */
const MAX_NAME = 256;

export interface DvcCreateRequest {
  channelId: number;
  channelName: string;
}

/**
 * The create request in a drdynvc message (the first chunk's data is enough: create requests are
 * small), or null when the message is another drdynvc command.
 */
export function parseDvcCreateRequest(message: Uint8Array): DvcCreateRequest | null {
  const r = new ByteReader(message, "drdynvc");
  const header = r.u8("header");
  if (header >> 4 !== DYNVC_CMD_CREATE) return null;
  const cbChId = header & 0x03;
  ensure(cbChId !== 3, "invalid", "drdynvc: cbChId 3 is reserved");
  const channelId = cbChId === 0
    ? r.u8("ChannelId")
    : cbChId === 1
    ? r.u16le("ChannelId")
    : r.u32le("ChannelId");
  const rest = r.rest();
  const nul = rest.indexOf(0);
  ensure(nul >= 0 && nul <= MAX_NAME, "invalid", "drdynvc: channel name is not NUL-terminated");
  return { channelId, channelName: decodeAsciiz(rest.subarray(0, nul)) };
}
