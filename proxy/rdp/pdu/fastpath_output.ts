/** Fast-path output (server -> client) PDUs and update fragment reassembly (MS-RDPBCGR 2.2.9.1.2). */
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter, concat } from "./reader.ts";
import { encodeFastPathHeader, peekFastPathHeader } from "./tpkt.ts";

export const FASTPATH_OUTPUT_SECURE_CHECKSUM = 0x1;
export const FASTPATH_OUTPUT_ENCRYPTED = 0x2;
export const FASTPATH_OUTPUT_COMPRESSION_USED = 0x2;

export const FASTPATH_UPDATETYPE_ORDERS = 0x0;
export const FASTPATH_UPDATETYPE_BITMAP = 0x1;
export const FASTPATH_UPDATETYPE_PALETTE = 0x2;
export const FASTPATH_UPDATETYPE_SYNCHRONIZE = 0x3;
export const FASTPATH_UPDATETYPE_SURFCMDS = 0x4;
export const FASTPATH_UPDATETYPE_PTR_NULL = 0x5;
export const FASTPATH_UPDATETYPE_PTR_DEFAULT = 0x6;
export const FASTPATH_UPDATETYPE_PTR_POSITION = 0x8;
export const FASTPATH_UPDATETYPE_COLOR = 0x9;
export const FASTPATH_UPDATETYPE_CACHED = 0xa;
export const FASTPATH_UPDATETYPE_POINTER = 0xb;
export const FASTPATH_UPDATETYPE_LARGE_POINTER = 0xc;

export const FASTPATH_FRAGMENT_SINGLE = 0x0;
export const FASTPATH_FRAGMENT_LAST = 0x1;
export const FASTPATH_FRAGMENT_FIRST = 0x2;
export const FASTPATH_FRAGMENT_NEXT = 0x3;

export interface FastPathUpdate {
  updateCode: number;
  fragmentation: number;
  compression: number;
  /** Present only when compression has FASTPATH_OUTPUT_COMPRESSION_USED. */
  compressionFlags: number | null;
  /** updateData (a view into the frame). */
  data: Uint8Array;
}

export interface FastPathOutputPdu {
  flags: number;
  /** True when the length used the 2-byte form (FreeRDP and Windows always do). */
  longLength: boolean;
  updates: FastPathUpdate[];
}

export function parseFastPathOutput(frame: Uint8Array): FastPathOutputPdu {
  const h = peekFastPathHeader(frame);
  ensure(h !== null, "truncated", "fast-path output: incomplete header");
  ensure(
    h.length === frame.length,
    "length_mismatch",
    `fast-path output: length ${h.length}, frame ${frame.length}`,
  );
  ensure(
    (h.flags & FASTPATH_OUTPUT_ENCRYPTED) === 0,
    "unsupported",
    "fast-path output: encrypted (standard RDP security)",
  );
  const r = new ByteReader(frame, "fast-path output");
  r.skip(h.headerLength, "header");
  const updates: FastPathUpdate[] = [];
  while (r.remaining > 0) {
    const hdr = r.u8("updateHeader");
    const compression = hdr >> 6;
    const compressionFlags = compression & FASTPATH_OUTPUT_COMPRESSION_USED ? r.u8("compressionFlags") : null;
    const size = r.u16le("size");
    updates.push({
      updateCode: hdr & 0x0f,
      fragmentation: (hdr >> 4) & 0x3,
      compression,
      compressionFlags,
      data: r.bytesView(size, "updateData"),
    });
  }
  return { flags: h.flags, longLength: h.headerLength === 3, updates };
}

export function encodeFastPathOutput(pdu: FastPathOutputPdu): Uint8Array {
  const w = new ByteWriter(256);
  for (const u of pdu.updates) {
    ensure(
      u.updateCode <= 0xf && u.fragmentation <= 3 && u.compression <= 3,
      "invalid",
      "fast-path update header",
    );
    w.u8(u.updateCode | (u.fragmentation << 4) | (u.compression << 6));
    if (u.compression & FASTPATH_OUTPUT_COMPRESSION_USED) {
      ensure(u.compressionFlags !== null, "invalid", "fast-path update: compressionFlags missing");
      w.u8(u.compressionFlags, "compressionFlags");
    }
    w.u16le(u.data.length, "size").bytes(u.data);
  }
  const body = w.finish();
  ensure(pdu.flags >= 0 && pdu.flags <= 3, "invalid", "fast-path output flags");
  return concat(encodeFastPathHeader(pdu.flags << 6, body.length, pdu.longLength), body);
}

export interface CompleteUpdate {
  updateCode: number;
  data: Uint8Array;
}

/**
 * Joins FIRST, NEXT..., LAST fragments into whole updates (SINGLE passes through). One connection, one
 * instance. Compressed fragments are refused: the proxy disables bulk compression.
 */
export class FastPathReassembler {
  #code = -1;
  #parts: Uint8Array[] = [];
  #size = 0;

  /** @param maxSize bound on a reassembled update (MultifragmentUpdate MaxRequestSize, default 16 MiB). */
  constructor(readonly maxSize = 16 * 1024 * 1024) {}

  get inProgress(): boolean {
    return this.#code >= 0;
  }

  push(u: FastPathUpdate): CompleteUpdate | null {
    ensure(
      u.compressionFlags === null || (u.compressionFlags & 0x20) === 0,
      "unsupported",
      "fast-path: bulk-compressed update",
    );
    switch (u.fragmentation) {
      case FASTPATH_FRAGMENT_SINGLE:
        ensure(!this.inProgress, "invalid", "fast-path: SINGLE update inside a fragmented one");
        return { updateCode: u.updateCode, data: u.data.slice() };
      case FASTPATH_FRAGMENT_FIRST:
        ensure(!this.inProgress, "invalid", "fast-path: FIRST fragment while another update is open");
        this.#code = u.updateCode;
        this.#parts = [];
        this.#size = 0;
        this.#add(u.data);
        return null;
      case FASTPATH_FRAGMENT_NEXT:
        this.#continue(u);
        return null;
      default: {
        this.#continue(u);
        const out = { updateCode: this.#code, data: concat(...this.#parts) };
        this.#code = -1;
        this.#parts = [];
        this.#size = 0;
        return out;
      }
    }
  }

  #continue(u: FastPathUpdate): void {
    ensure(this.inProgress, "invalid", "fast-path: NEXT/LAST fragment without FIRST");
    ensure(
      u.updateCode === this.#code,
      "invalid",
      `fast-path: fragment code ${u.updateCode} != ${this.#code}`,
    );
    this.#add(u.data);
  }

  #add(data: Uint8Array): void {
    this.#size += data.length;
    ensure(
      this.#size <= this.maxSize,
      "too_large",
      `fast-path: reassembled update exceeds ${this.maxSize} bytes`,
    );
    this.#parts.push(data.slice());
  }
}
