// Server fast-path output (MS-RDPBCGR 2.2.9.1.2 TS_FP_UPDATE_PDU): header, updates, fragment
// reassembly (2.2.9.1.2.1 fragmentation SINGLE/LAST/FIRST/NEXT) and dispatch by update code.

import { ByteReader } from "./byte_reader.ts";
import { malformed, RenderError, unsupported } from "./errors.ts";
import { readColorPointer, readLargePointer, readNewPointer } from "./pointer.ts";
import type { UpdateSink } from "./sink.ts";

const FASTPATH_OUTPUT_ENCRYPTED = 0x2;
const COMPRESSION_USED = 0x2;
const PACKET_COMPRESSED = 0x20;
const [FRAG_SINGLE, FRAG_LAST, FRAG_FIRST] = [0, 1, 2];
/** Reassembled updates larger than this are refused (MultifragmentUpdate sizes are far smaller). */
export const MAX_REASSEMBLED_BYTES = 16 << 20;

const UPDATE_NAMES: Record<number, string> = {
  0: "orders",
  2: "palette",
  4: "surface commands",
};

export class FastPathParser {
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentCode = -1;

  /** A fragmented update has begun and not ended (its fragments so far are held here). */
  get midUpdate(): boolean {
    return this.#fragmentCode >= 0;
  }

  constructor(readonly sink: UpdateSink) {}

  /** One or more complete TS_FP_UPDATE_PDUs, each starting with its fpOutputHeader. */
  feed(bytes: Uint8Array): void {
    const r = new ByteReader(bytes);
    while (r.remaining > 0) {
      const start = r.pos;
      const hdr = r.u8("fpOutputHeader");
      if ((hdr & 0x3) !== 0) throw malformed(`not a fast-path PDU (action ${hdr & 0x3})`);
      if ((hdr >> 6) & FASTPATH_OUTPUT_ENCRYPTED) {
        throw new RenderError("encrypted", "encrypted fast-path PDU (Standard RDP Security)");
      }
      const l1 = r.u8("length1");
      const length = l1 & 0x80 ? ((l1 & 0x7f) << 8) | r.u8("length2") : l1;
      const headerBytes = r.pos - start;
      if (length < headerBytes) throw malformed(`fast-path length ${length}`);
      this.#updates(r.sub(length - headerBytes, "fast-path PDU"));
    }
  }

  #updates(r: ByteReader): void {
    while (r.remaining > 0) {
      const hdr = r.u8("updateHeader");
      const code = hdr & 0x0f, frag = (hdr >> 4) & 0x3, compression = (hdr >> 6) & 0x3;
      if (compression & COMPRESSION_USED && r.u8("compressionFlags") & PACKET_COMPRESSED) {
        throw new RenderError("compressed", "bulk-compressed fast-path update");
      }
      const data = r.bytes(r.u16("size"), "updateData");
      if (frag === FRAG_SINGLE) {
        if (this.#fragmentCode >= 0) throw malformed("unfragmented update inside a fragmented one");
        this.#dispatch(code, data);
        continue;
      }
      if (frag === FRAG_FIRST) {
        if (this.#fragmentCode >= 0) throw malformed("FIRST fragment while another update is open");
        this.#fragmentCode = code;
      } else if (this.#fragmentCode !== code) {
        throw malformed(`fragment of update ${code} without its FIRST fragment`);
      }
      this.#fragmentBytes += data.length;
      if (this.#fragmentBytes > MAX_REASSEMBLED_BYTES) throw malformed("fragmented update too large");
      this.#fragments.push(data.slice());
      if (frag === FRAG_LAST) {
        const whole = new Uint8Array(this.#fragmentBytes);
        let pos = 0;
        for (const f of this.#fragments) [whole.set(f, pos), pos += f.length];
        [this.#fragments, this.#fragmentBytes, this.#fragmentCode] = [[], 0, -1];
        this.#dispatch(code, whole);
      }
    }
  }

  #dispatch(code: number, data: Uint8Array): void {
    const r = new ByteReader(data);
    const s = this.sink;
    switch (code) {
      case 1: { // BITMAP: TS_UPDATE_BITMAP_DATA, starting with updateType
        const updateType = r.u16("updateType");
        if (updateType !== 1) throw malformed(`fast-path bitmap update with updateType ${updateType}`);
        s.bitmap(r);
        return;
      }
      case 3: // SYNCHRONIZE
        return;
      case 5: // PTR_NULL
        return s.pointerHidden();
      case 6: // PTR_DEFAULT
        return s.pointerDefault();
      case 8: // PTR_POSITION
        return s.pointerPosition(r.u16("x"), r.u16("y"));
      case 9: // COLOR
        return s.pointerShape(readColorPointer(r));
      case 10: // CACHED
        return s.pointerCached(r.u16("cacheIndex"));
      case 11: // POINTER
        return s.pointerShape(readNewPointer(r));
      case 12: // LARGE_POINTER
        return s.pointerShape(readLargePointer(r));
      default:
        throw code in UPDATE_NAMES
          ? unsupported(`unsupported update: fast-path ${UPDATE_NAMES[code]} (code ${code})`)
          : malformed(`unknown fast-path update code ${code}`);
    }
  }
}
