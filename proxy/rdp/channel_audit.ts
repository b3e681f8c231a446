// Reassembly of static virtual channel messages for auditing (clipboard, drive redirection), per side
// and channel. Unlike a relay, auditing must never hold a whole large transfer in memory: a message
// declared bigger than `maxMessage` is skipped (reported with its size) and its chunks pass untouched.
import {
  CHANNEL_FLAG_FIRST,
  CHANNEL_FLAG_LAST,
  CHANNEL_PACKET_COMPRESSED,
  ensure,
  parseChannelPdu,
} from "./pdu/mod.ts";

export type AuditChunkResult =
  | { kind: "message"; message: Uint8Array }
  | { kind: "skipped"; length: number }
  | null;

interface Open {
  length: number;
  parts: Uint8Array[];
  size: number;
  skipping: boolean;
}

export class ChannelAudit {
  #open = new Map<string, Open>();

  constructor(readonly maxMessage = 4 * 1024 * 1024) {}

  /** One chunk (the MCS Send Data userData); the whole message when its LAST chunk arrived. */
  push(side: string, channelId: number, userData: Uint8Array): AuditChunkResult {
    const pdu = parseChannelPdu(userData);
    ensure((pdu.flags & CHANNEL_PACKET_COMPRESSED) === 0, "unsupported", "channel: compressed chunk");
    const key = `${side}:${channelId}`;
    let o = this.#open.get(key);
    if (pdu.flags & CHANNEL_FLAG_FIRST) {
      ensure(o === undefined, "invalid", `channel ${channelId}: FIRST chunk while a message is open`);
      o = { length: pdu.length, parts: [], size: 0, skipping: pdu.length > this.maxMessage };
      this.#open.set(key, o);
    }
    ensure(o !== undefined, "invalid", `channel ${channelId}: chunk without FIRST`);
    ensure(pdu.length === o.length, "length_mismatch", `channel ${channelId}: length changed mid-message`);
    o.size += pdu.data.length;
    ensure(o.size <= o.length, "length_mismatch", `channel ${channelId}: chunks exceed the declared length`);
    if (!o.skipping) o.parts.push(pdu.data.slice());
    if ((pdu.flags & CHANNEL_FLAG_LAST) === 0) return null;
    this.#open.delete(key);
    ensure(
      o.size === o.length,
      "length_mismatch",
      `channel ${channelId}: ${o.size} bytes, declared ${o.length}`,
    );
    if (o.skipping) return { kind: "skipped", length: o.length };
    if (o.parts.length === 1) return { kind: "message", message: o.parts[0] };
    const message = new Uint8Array(o.size);
    let at = 0;
    for (const p of o.parts) {
      message.set(p, at);
      at += p.length;
    }
    return { kind: "message", message };
  }
}
