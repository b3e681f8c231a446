// Streaming reader for RDP recordings (format in rdp_file_format.ts).
//
// Memory stays bounded by max(chunkSize, largest record) whatever the file size. A file cut short
// inside its last record (crash, full disk) ends the iteration quietly with `truncated` set;
// anything that cannot be a valid record throws RecordingFormatError.

import { openRecordingSource, type RecordingSource } from "./recording_read.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";
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
} from "./rdp_file_format.ts";

export interface RecordingRecord {
  type: RecordType;
  /** Milliseconds since the recording started (monotonic). */
  offsetMillis: number;
  /** A copy owned by the caller. */
  payload: Uint8Array;
  /** Byte offset of the record in the file. */
  fileOffset: number;
}

export interface RecordingReader extends AsyncIterable<RecordingRecord> {
  readonly header: RecordingHeader;
  readonly fileSize: number;
  /** Bytes consumed so far (preamble + whole records returned); for progress. */
  readonly position: number;
  /** The file ended inside a record (the partial record was dropped). */
  readonly truncated: boolean;
  /** An END record was read. */
  readonly complete: boolean;
  /** Largest buffer the reader held, in bytes. */
  readonly peakBufferBytes: number;
  close(): void;
}

export interface ReadOptions {
  /** Bytes per read() call (default 64 KiB). */
  chunkSize?: number;
  /** opens an encrypted recording (`.age`, recording_read.ts) */
  keys?: RecordingKeys;
}

export async function openRecording(path: string, opts: ReadOptions = {}): Promise<RecordingReader> {
  const file = await openRecordingSource(path, opts.keys);
  try {
    const reader = new Reader(file, file.size, opts.chunkSize ?? 64 << 10);
    await reader.readPreamble();
    return reader;
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** Iterate the records of a recording, closing the file when done. */
export async function* readRecording(path: string, opts: ReadOptions = {}): AsyncGenerator<RecordingRecord> {
  const reader = await openRecording(path, opts);
  try {
    yield* reader;
  } finally {
    reader.close();
  }
}

class Reader implements RecordingReader {
  header!: RecordingHeader;
  position = 0;
  truncated = false;
  complete = false;
  peakBufferBytes: number;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;
  #open = true;
  #iterating = false;

  constructor(readonly file: RecordingSource, readonly fileSize: number, readonly chunkSize: number) {
    if (!(chunkSize >= 16)) throw new RangeError("chunkSize must be at least 16 bytes");
    this.#buf = new Uint8Array(chunkSize);
    this.peakBufferBytes = chunkSize;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    void this.file.close();
  }

  async readPreamble(): Promise<void> {
    const full = await this.#fill(PREAMBLE_BYTES);
    const b = this.#buf, s = this.#start;
    const seen = Math.min(this.#avail(), MAGIC.length);
    for (let i = 0; i < seen; i++) {
      if (b[s + i] !== MAGIC[i]) throw new RecordingFormatError("bad_magic", "not a recording");
    }
    if (!full) throw new RecordingFormatError("truncated_header", "file too short for a recording preamble");
    const version = b[s + 8] | (b[s + 9] << 8);
    if (version !== FORMAT_VERSION) {
      throw new RecordingFormatError(
        "unsupported_version",
        `recording format version ${version} is not supported`,
      );
    }
    const hdrLen = u32(b, s + 10);
    if (hdrLen > MAX_HEADER_BYTES) throw new RecordingFormatError("bad_header", `header length ${hdrLen}`);
    if (!await this.#fill(PREAMBLE_BYTES + hdrLen)) {
      throw new RecordingFormatError("truncated_header", "file ends inside the recording header");
    }
    let parsed: unknown;
    try {
      const bytes = this.#buf.subarray(this.#start + PREAMBLE_BYTES, this.#start + PREAMBLE_BYTES + hdrLen);
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new RecordingFormatError("bad_header", `header is not UTF-8 JSON: ${(e as Error).message}`);
    }
    this.header = validateHeader(parsed);
    this.#consume(PREAMBLE_BYTES + hdrLen);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordingRecord> {
    if (this.#iterating) throw new Error("a RecordingReader can be iterated once");
    this.#iterating = true;
    let lastOffset = 0;
    while (true) {
      const at = this.position;
      if (!await this.#fill(RECORD_HEADER_BYTES)) {
        this.#endOfData(at);
        return;
      }
      if (this.complete) throw new RecordingFormatError("bad_record", "data after END record", at);
      const b = this.#buf, s = this.#start;
      const type = b[s];
      const offsetMillis = u32(b, s + 1);
      const length = u32(b, s + 5);
      if (!isRecordType(type)) {
        throw new RecordingFormatError("bad_record", `unknown record type ${type}`, at);
      }
      if (length > MAX_RECORD_BYTES) {
        throw new RecordingFormatError("bad_record", `record length ${length}`, at);
      }
      if (offsetMillis < lastOffset) {
        throw new RecordingFormatError(
          "bad_record",
          `time goes backwards (${offsetMillis} < ${lastOffset})`,
          at,
        );
      }
      if (type === RecordType.END && length !== 0) {
        throw new RecordingFormatError("bad_record", "END record with a payload", at);
      }
      if (!await this.#fill(RECORD_HEADER_BYTES + length)) {
        this.#endOfData(at);
        return;
      }
      const p0 = this.#start + RECORD_HEADER_BYTES;
      const payload = this.#buf.slice(p0, p0 + length);
      this.#consume(RECORD_HEADER_BYTES + length);
      lastOffset = offsetMillis;
      if (type === RecordType.END) this.complete = true;
      yield { type, offsetMillis, payload, fileOffset: at };
    }
  }

  #endOfData(at: number): void {
    if (this.#avail() > 0) {
      if (this.complete) throw new RecordingFormatError("bad_record", "data after END record", at);
      this.truncated = true;
    }
  }

  #avail(): number {
    return this.#end - this.#start;
  }

  #consume(n: number): void {
    this.#start += n;
    this.position += n;
  }

  /** Make n bytes available from #start; false if the file ends first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#avail() < n) {
      if (this.#eof) return false;
      if (this.#buf.length - this.#start < n) this.#compact(n);
      const want = Math.min(this.chunkSize, this.#buf.length - this.#end);
      const got = await this.file.read(this.#buf.subarray(this.#end, this.#end + want));
      if (got === null) this.#eof = true;
      else this.#end += got;
    }
    return true;
  }

  /** Move unread bytes to the front, growing the buffer when one record needs more room. */
  #compact(need: number): void {
    const avail = this.#avail();
    if (need > this.#buf.length) {
      const size = Math.max(need, Math.min(this.#buf.length * 2, MAX_RECORD_BYTES + RECORD_HEADER_BYTES));
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
      this.peakBufferBytes = Math.max(this.peakBufferBytes, size);
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = avail;
  }
}

function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}
