/** Static virtual channel PDUs (MS-RDPBCGR 2.2.6.1) and FIRST..LAST chunk reassembly (3.1.5.2.2). */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter, concat } from "./reader.ts";

export const CHANNEL_FLAG_FIRST = 0x00000001;
export const CHANNEL_FLAG_LAST = 0x00000002;
export const CHANNEL_FLAG_SHOW_PROTOCOL = 0x00000010;
export const CHANNEL_PACKET_COMPRESSED = 0x00200000;

export interface ChannelPdu {
  /** Total uncompressed length of the whole message (all chunks). */
  length: number;
  flags: number;
  /** This chunk. */
  data: Uint8Array;
}

/** MCS Send Data userData on a static channel -> CHANNEL_PDU_HEADER + chunk. */
export function parseChannelPdu(userData: Uint8Array): ChannelPdu {
  const r = new ByteReader(userData, "channel pdu");
  const length = r.u32le("length");
  const flags = r.u32le("flags");
  return { length, flags, data: r.rest() };
}

export function encodeChannelPdu(pdu: ChannelPdu): Uint8Array {
  return concat(new ByteWriter(8).u32le(pdu.length, "length").u32le(pdu.flags, "flags").finish(), pdu.data);
}

/** Split a message into chunks (default 1600 bytes, the VCChunkSize default) as whole userData. */
export function chunkChannelMessage(message: Uint8Array, chunkSize = 1600, extraFlags = 0): Uint8Array[] {
  ensure(chunkSize > 0, "invalid", "channel: chunk size");
  const out: Uint8Array[] = [];
  for (let at = 0; at < message.length || out.length === 0; at += chunkSize) {
    const end = Math.min(message.length, at + chunkSize);
    const flags = extraFlags | (at === 0 ? CHANNEL_FLAG_FIRST : 0) |
      (end >= message.length ? CHANNEL_FLAG_LAST : 0);
    out.push(encodeChannelPdu({ length: message.length, flags, data: message.subarray(at, end) }));
  }
  return out;
}

interface Partial {
  length: number;
  parts: Uint8Array[];
  size: number;
}

/**
 * Per-channel reassembly for one direction of one connection. `push` returns the whole message
 * when its LAST chunk arrives, else null. Compressed chunks are refused (VCCAPS_NO_COMPR is forced).
 */
export class ChannelReassembler {
  #open = new Map<number, Partial>();

  /** @param maxMessage bound on a declared message length (client-controlled), default 32 MiB. */
  constructor(readonly maxMessage = 32 * 1024 * 1024) {}

  push(channelId: number, userData: Uint8Array): Uint8Array | null {
    const pdu = parseChannelPdu(userData);
    ensure((pdu.flags & CHANNEL_PACKET_COMPRESSED) === 0, "unsupported", "channel: compressed chunk");
    ensure(pdu.length <= this.maxMessage, "too_large", `channel: message of ${pdu.length} bytes`);
    let p = this.#open.get(channelId);
    if (pdu.flags & CHANNEL_FLAG_FIRST) {
      ensure(p === undefined, "invalid", `channel ${channelId}: FIRST chunk while a message is open`);
      p = { length: pdu.length, parts: [], size: 0 };
      this.#open.set(channelId, p);
    }
    ensure(p !== undefined, "invalid", `channel ${channelId}: chunk without FIRST`);
    ensure(pdu.length === p.length, "length_mismatch", `channel ${channelId}: length changed mid-message`);
    p.size += pdu.data.length;
    ensure(p.size <= p.length, "length_mismatch", `channel ${channelId}: chunks exceed declared length`);
    p.parts.push(pdu.data.slice());
    if ((pdu.flags & CHANNEL_FLAG_LAST) === 0) return null;
    this.#open.delete(channelId);
    ensure(
      p.size === p.length,
      "length_mismatch",
      `channel ${channelId}: ${p.size} bytes, declared ${p.length}`,
    );
    return p.parts.length === 1 ? p.parts[0] : concat(...p.parts);
  }
}
