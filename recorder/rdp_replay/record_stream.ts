// Pure, push-driven parsing of an RDP recording (format in ../rdp_file_format.ts) from byte chunks as
// they arrive: the browser player feeds it fetch() chunks, the index builder file reads. It may start
// at any record boundary (a keyframe's byte offset) once it knows the header is not needed.
//
// Bad bytes throw RecordingFormatError with the file offset; a stream that ends inside a record is
// reported by end() (the file was cut short), so a player can say where it stopped.

import {
  FORMAT_VERSION,
  isRecordType,
  MAGIC,
  MAX_HEADER_BYTES,
  MAX_RECORD_BYTES,
  PREAMBLE_BYTES,
  RECORD_HEADER_BYTES,
  RecordingFormatError,
  type RecordingHeader,
  RecordType,
  validateHeader,
} from "../rdp_file_format.ts";

export interface StreamRecord {
  type: RecordType;
  offsetMillis: number;
  /** Valid until the next push(); copy it to keep it. */
  payload: Uint8Array;
  /** Byte offset of the record in the file. */
  fileOffset: number;
}

export interface StreamEnd {
  /** An END record was read. */
  complete: boolean;
  /** The bytes ended inside the header or a record (the partial part was dropped). */
  truncated: boolean;
  /** Bytes of whole records (and the header) consumed: where the readable part stops. */
  position: number;
}

export class RecordStream {
  header: RecordingHeader | null = null;
  complete = false;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #pos: number;
  #lastOffset = 0;

  /** `from`: the file offset of the first byte pushed; 0 reads the header first, else a record boundary. */
  constructor(from = 0, opts: { header?: RecordingHeader; lastOffsetMillis?: number } = {}) {
    this.#pos = from;
    if (from !== 0) {
      if (!opts.header) throw new RangeError("a stream started inside the file needs the header");
      this.header = opts.header;
      this.#lastOffset = opts.lastOffsetMillis ?? 0;
    }
  }

  /** Bytes consumed so far (file offset of the next record). */
  get position(): number {
    return this.#pos;
  }

  /** Add bytes; then call next() until it returns null. */
  push(chunk: Uint8Array): void {
    const avail = this.#end - this.#start;
    if (this.#buf.length - this.#end < chunk.length) {
      const need = avail + chunk.length;
      const next = need > this.#buf.length ? new Uint8Array(Math.max(need, this.#buf.length * 2)) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      [this.#start, this.#end] = [0, avail];
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next whole record, or null when more bytes are needed (or after END). */
  next(): StreamRecord | null {
    if (this.header === null && !this.#readPreamble()) return null;
    const b = this.#buf, s = this.#start, at = this.#pos;
    if (this.#end - s < RECORD_HEADER_BYTES) return null;
    if (this.complete) throw new RecordingFormatError("bad_record", "data after END record", at);
    const type = b[s], offsetMillis = u32(b, s + 1), length = u32(b, s + 5);
    if (!isRecordType(type)) throw new RecordingFormatError("bad_record", `unknown record type ${type}`, at);
    if (length > MAX_RECORD_BYTES) {
      throw new RecordingFormatError("bad_record", `record length ${length}`, at);
    }
    if (offsetMillis < this.#lastOffset) {
      throw new RecordingFormatError(
        "bad_record",
        `time goes backwards (${offsetMillis} < ${this.#lastOffset})`,
        at,
      );
    }
    if (type === RecordType.END && length !== 0) {
      throw new RecordingFormatError("bad_record", "END record with a payload", at);
    }
    if (this.#end - s < RECORD_HEADER_BYTES + length) return null;
    const payload = b.subarray(s + RECORD_HEADER_BYTES, s + RECORD_HEADER_BYTES + length);
    this.#consume(RECORD_HEADER_BYTES + length);
    this.#lastOffset = offsetMillis;
    if (type === RecordType.END) this.complete = true;
    return { type, offsetMillis, payload, fileOffset: at };
  }

  /** No more bytes will come: how the stream ended. */
  end(): StreamEnd {
    const left = this.#end - this.#start;
    if (left > 0 && this.complete) {
      throw new RecordingFormatError("bad_record", "data after END record", this.#pos);
    }
    if (this.header === null && left === 0) {
      throw new RecordingFormatError("truncated_header", "file too short for a recording preamble");
    }
    return { complete: this.complete, truncated: left > 0 || this.header === null, position: this.#pos };
  }

  #readPreamble(): boolean {
    const b = this.#buf, s = this.#start, avail = this.#end - s;
    for (let i = 0; i < Math.min(avail, MAGIC.length); i++) {
      if (b[s + i] !== MAGIC[i]) throw new RecordingFormatError("bad_magic", "not a recording");
    }
    if (avail < PREAMBLE_BYTES) return false;
    const version = b[s + 8] | (b[s + 9] << 8);
    if (version !== FORMAT_VERSION) {
      throw new RecordingFormatError(
        "unsupported_version",
        `recording format version ${version} is not supported`,
      );
    }
    const hdrLen = u32(b, s + 10);
    if (hdrLen > MAX_HEADER_BYTES) throw new RecordingFormatError("bad_header", `header length ${hdrLen}`);
    if (avail < PREAMBLE_BYTES + hdrLen) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(
        new TextDecoder("utf-8", { fatal: true }).decode(
          b.subarray(s + PREAMBLE_BYTES, s + PREAMBLE_BYTES + hdrLen),
        ),
      );
    } catch (e) {
      throw new RecordingFormatError("bad_header", `header is not UTF-8 JSON: ${(e as Error).message}`);
    }
    this.header = validateHeader(parsed);
    this.#consume(PREAMBLE_BYTES + hdrLen);
    return true;
  }

  #consume(n: number): void {
    this.#start += n;
    this.#pos += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }
}

function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}
