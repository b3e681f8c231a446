// A local append-only file of audit events that could not be written to the database (an outage). Each
// event is one JSON line, fsync'd before append() returns, so a crash or restart of serve loses none; the
// file lives in a 0700 directory under the data dir, mode 0600, and is bounded (append() refuses beyond it).
import { join } from "node:path";
import type { AuditEvent } from "../db/audit_events.ts";

export const SPOOL_DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** The spool directory under the data dir. */
export function spoolDir(dataDir: string): string {
  return join(dataDir, "spool");
}

/** One line of the spool. */
export function encodeSpooled(e: AuditEvent): string {
  return JSON.stringify({ ...e, at: e.at?.toISOString() }) + "\n";
}

/**
 * The complete lines of `text` as events, in order. A line that is not a valid event (damaged on disk) is
 * reported through `bad` and skipped; an unterminated last line (a torn write) is not read.
 */
export function decodeSpooled(text: string, bad: (line: string) => void = () => {}): AuditEvent[] {
  const out: AuditEvent[] = [];
  const lines = text.split("\n");
  lines.pop(); // after the last "\n": empty, or a torn line
  for (const line of lines) {
    if (line === "") continue;
    try {
      const o = JSON.parse(line);
      if (
        typeof o !== "object" || o === null || typeof o.actor !== "string" || typeof o.action !== "string" ||
        typeof o.success !== "boolean"
      ) throw new Error("not an audit event");
      const at = typeof o.at === "string" ? new Date(o.at) : undefined;
      out.push({ ...o, at: at && !isNaN(at.getTime()) ? at : undefined });
    } catch (_e) {
      bad(line);
    }
  }
  return out;
}

export class AuditSpool {
  #size: number;
  #file: Deno.FsFile | null = null;

  private constructor(readonly path: string, readonly maxBytes: number) {
    this.#size = 0;
  }

  /** Opens (creates) `<dir>/<name>.jsonl`; a torn last line left by a crash is cut off. */
  static open(dir: string, name: string, maxBytes = SPOOL_DEFAULT_MAX_BYTES): AuditSpool {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    const s = new AuditSpool(join(dir, `${name}.jsonl`), maxBytes);
    const f = Deno.openSync(s.path, { read: true, write: true, create: true, mode: 0o600 });
    try {
      Deno.chmodSync(s.path, 0o600);
      const bytes = Deno.readFileSync(s.path);
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end !== bytes.length) {
        f.truncateSync(end);
        f.syncDataSync();
      }
      s.#size = end;
    } finally {
      f.close();
    }
    return s;
  }

  /** Bytes in the spool. */
  get size(): number {
    return this.#size;
  }

  /** Appends and fsyncs one event; false (nothing written) when it would exceed the bound. */
  append(e: AuditEvent): boolean {
    const bytes = new TextEncoder().encode(encodeSpooled(e));
    if (this.#size + bytes.length > this.maxBytes) return false;
    this.#file ??= Deno.openSync(this.path, { append: true, create: true, mode: 0o600 });
    for (let off = 0; off < bytes.length;) off += this.#file.writeSync(bytes.subarray(off));
    this.#file.syncDataSync();
    this.#size += bytes.length;
    return true;
  }

  /** The events from byte `offset` on, and the offset after the last complete line. */
  readFrom(offset: number, bad?: (line: string) => void): { events: AuditEvent[]; end: number } {
    const bytes = Deno.readFileSync(this.path).subarray(offset);
    const end = offset + bytes.lastIndexOf(0x0a) + 1;
    const text = new TextDecoder().decode(bytes.subarray(0, end - offset));
    return { events: decodeSpooled(text, bad), end };
  }

  /** Empties the spool (every event in it is written). */
  clear(): void {
    Deno.truncateSync(this.path, 0);
    this.#file?.syncDataSync();
    this.#size = 0;
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
