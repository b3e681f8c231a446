// SFTP (draft-ietf-secsh-filexfer-02, as OpenSSH speaks it) seen from the proxy: file names opened and bytes
// read or written per handle, renames, removes. Headers are parsed; WRITE/DATA payloads are skipped.
import { createHash, type Hash } from "node:crypto";
import {
  type ContentSink,
  type EmitTransfer,
  MAX_NAME,
  type OpenContent,
  type Transfer,
  TransferTapError,
} from "./transfer_tap.ts";

const MAX_PACKET = 1 << 20; // OpenSSH sends at most 256 KiB; anything larger is not SFTP

// SFTP v3 packet types (draft-ietf-secsh-filexfer-02)
const OPEN = 3,
  CLOSE = 4,
  READ = 5,
  WRITE = 6,
  REMOVE = 13,
  MKDIR = 14,
  RMDIR = 15,
  RENAME = 18,
  EXTENDED = 200;
const STATUS = 101, HANDLE = 102, DATA = 103;
const FXF_READ = 1, FXF_WRITE = 2;

/** Reads SSH wire strings and integers from a packet body, bounds-checked. */
class Cursor {
  off = 0;
  constructor(readonly b: Uint8Array) {}
  u32(): number {
    if (this.off + 4 > this.b.length) throw new TransferTapError("malformed", "truncated SFTP packet");
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.off, 4).getUint32(0);
    this.off += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.off + n > this.b.length) {
      throw new TransferTapError("malformed", "SFTP string overruns its packet");
    }
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  text(): string {
    const v = this.bytes();
    return new TextDecoder().decode(v.subarray(0, MAX_NAME));
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Where the bytes of a payload go. */
interface Feed {
  update(chunk: Uint8Array): void;
}

/**
 * The content of one direction of an open file, hashed (and, for kept files, copied) while it passes in
 * order from offset 0.
 */
class Content {
  hash: Hash | null = createHash("sha256");
  /** the next offset an in-order transfer continues at */
  next = 0;
  sink: ContentSink | null = null;
  #feed: Feed = {
    update: (chunk) => {
      this.hash?.update(chunk);
      this.sink?.write(chunk);
    },
  };

  constructor(private readonly begin: () => ContentSink | null = () => null) {}

  /** A payload of `n` bytes at `offset` begins: where to send its bytes (null: not hashable any more). */
  at(offset: number, n: number): Feed | null {
    if (offset !== this.next) this.hash = null; // out of order, or a partial transfer: no whole-file hash
    if (!this.hash) return null;
    if (offset === 0 && !this.sink) this.sink = this.begin();
    this.next = offset + n;
    return this.#feed;
  }
}

interface OpenFile {
  path: string;
  flags: number;
  read: number;
  written: number;
  readContent: Content;
  writeContent: Content;
}

/** One direction of an SFTP channel; both directions share a SftpTap. */
class SftpParser {
  #head: Uint8Array = new Uint8Array(0);
  #skip = 0;
  /** where the skipped payload (WRITE/DATA content) goes, if anywhere */
  #sink: Feed | null = null;
  constructor(
    private readonly onPacket: (type: number, body: Uint8Array, skipped: number) => Feed | null | void,
  ) {}

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - off);
        this.#sink?.update(chunk.subarray(off, off + n));
        this.#skip -= n;
        off += n;
        continue;
      }
      // collect a packet; WRITE/DATA payloads are skipped once their header is known
      const need = this.#needed();
      const take = Math.min(need - this.#head.length, chunk.length - off);
      this.#head = concat(this.#head, chunk.subarray(off, off + take));
      off += take;
      if (this.#head.length === this.#needed()) this.#consume();
    }
  }

  #needed(): number {
    if (this.#head.length < 5) return 5;
    const len = new DataView(this.#head.buffer, this.#head.byteOffset).getUint32(0);
    if (len < 1 || len > MAX_PACKET) throw new TransferTapError("too_large", `SFTP packet of ${len} bytes`);
    const type = this.#head[4];
    // WRITE: id, handle string, offset u64, data length → header ends before the data
    if (type === WRITE) {
      if (this.#head.length < 13) return Math.min(13, 4 + len);
      const hl = new DataView(this.#head.buffer, this.#head.byteOffset).getUint32(9);
      if (hl > 256) throw new TransferTapError("malformed", "SFTP handle longer than 256 bytes");
      return Math.min(4 + len, 13 + hl + 12);
    }
    // DATA: id, data length → header is 13 bytes
    if (type === DATA) return Math.min(4 + len, 13);
    return 4 + len;
  }

  #consume(): void {
    const h = this.#head;
    const len = new DataView(h.buffer, h.byteOffset).getUint32(0);
    const rest = 4 + len - h.length;
    this.#head = new Uint8Array(0);
    this.#skip = rest;
    this.#sink = this.onPacket(h[4], h.subarray(5), rest) ?? null;
  }
}

export class SftpTap {
  #pendingOpen = new Map<number, { path: string; flags: number }>();
  #pendingRead = new Map<number, { handle: string; offset: number }>();
  #files = new Map<string, OpenFile>();
  readonly fromClient: SftpParser;
  readonly fromServer: SftpParser;

  constructor(private readonly emit: EmitTransfer, private readonly open?: OpenContent) {
    this.fromClient = new SftpParser((type, body, skipped) => this.#request(type, body, skipped));
    this.fromServer = new SftpParser((type, body, skipped) => this.#response(type, body, skipped));
  }

  #request(type: number, body: Uint8Array, skipped: number): Feed | null {
    const c = new Cursor(body);
    if (type === 1) return null; // INIT carries a version, no id
    let sink: Feed | null = null;
    const id = c.u32();
    switch (type) {
      case OPEN: {
        const path = c.text();
        this.#pendingOpen.set(id, { path, flags: c.u32() });
        break;
      }
      case READ: {
        const handle = hex(c.bytes());
        this.#pendingRead.set(id, { handle, offset: c.u32() * 2 ** 32 + c.u32() });
        break;
      }
      case WRITE: {
        const f = this.#files.get(hex(c.bytes()));
        const offset = c.u32() * 2 ** 32 + c.u32();
        const n = c.u32();
        if (f) {
          const got = Math.min(n, body.length - c.off + skipped);
          f.written += got;
          sink = f.writeContent.at(offset, got);
        }
        break;
      }
      case CLOSE:
        this.#close(hex(c.bytes()));
        break;
      case REMOVE:
        this.emit({ protocol: "sftp", op: "remove", path: c.text(), bytes: 0 });
        break;
      case MKDIR:
        this.emit({ protocol: "sftp", op: "mkdir", path: c.text(), bytes: 0 });
        break;
      case RMDIR:
        this.emit({ protocol: "sftp", op: "rmdir", path: c.text(), bytes: 0 });
        break;
      case RENAME: {
        const from = c.text();
        this.emit({ protocol: "sftp", op: "rename", path: from, to: c.text(), bytes: 0 });
        break;
      }
      case EXTENDED: {
        // OpenSSH's sftp renames with this extension when the server offers it
        if (c.text() === "posix-rename@openssh.com") {
          const from = c.text();
          this.emit({ protocol: "sftp", op: "rename", path: from, to: c.text(), bytes: 0 });
        }
        break;
      }
    }
    // bound the bookkeeping against a client that never waits for answers
    if (this.#pendingOpen.size > 10_000 || this.#pendingRead.size > 10_000) {
      throw new TransferTapError("malformed", "too many unanswered SFTP requests");
    }
    return sink;
  }

  #response(type: number, body: Uint8Array, skipped: number): Feed | null {
    const c = new Cursor(body);
    if (type === 2) return null; // VERSION
    const id = c.u32();
    let sink: Feed | null = null;
    switch (type) {
      case HANDLE: {
        const open = this.#pendingOpen.get(id);
        this.#pendingOpen.delete(id);
        if (open && this.#files.size < 10_000) {
          // only a file opened one way has one content to keep
          const op = opOf(open.flags);
          const begin = () => this.open?.({ protocol: "sftp", op, path: open.path, bytes: 0 }) ?? null;
          this.#files.set(hex(c.bytes()), {
            ...open,
            read: 0,
            written: 0,
            readContent: new Content(op === "read" ? begin : undefined),
            writeContent: new Content(op === "write" ? begin : undefined),
          });
        }
        break;
      }
      case DATA: {
        const r = this.#pendingRead.get(id);
        this.#pendingRead.delete(id);
        const n = c.u32();
        const f = r === undefined ? undefined : this.#files.get(r.handle);
        if (f && r) {
          const got = Math.min(n, body.length - c.off + skipped);
          f.read += got;
          sink = f.readContent.at(r.offset, got);
        }
        break;
      }
      case STATUS:
        this.#pendingOpen.delete(id);
        this.#pendingRead.delete(id);
        break;
    }
    return sink;
  }

  #close(handle: string): void {
    const f = this.#files.get(handle);
    if (!f) return;
    this.#files.delete(handle);
    const op = opOf(f.flags);
    // a file read or written whole, in order, has the hash of its content (a file both read and written
    // has none: which content would it be?)
    const content = op === "read" ? f.readContent : op === "write" ? f.writeContent : null;
    const sha256 = content?.hash && (op === "read" ? f.read : f.written) === content.next
      ? content.hash.digest("hex")
      : undefined;
    this.emit({
      protocol: "sftp",
      op,
      path: f.path,
      bytes: f.read + f.written,
      ...(sha256 ? { sha256 } : {}),
    }, content?.sink);
  }

  /** Reports files still open when the channel ends. */
  finish(): void {
    for (const h of [...this.#files.keys()]) this.#close(h);
  }
}

function opOf(flags: number): Transfer["op"] {
  return flags & FXF_WRITE ? (flags & FXF_READ ? "read+write" : "write") : flags & FXF_READ ? "read" : "open";
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
