// The legacy SCP protocol (`scp -O`, or `scp -t/-f` run remotely) seen from the proxy.
import { createHash, type Hash } from "node:crypto";
import {
  type ContentSink,
  type EmitTransfer,
  MAX_NAME,
  type OpenContent,
  type Transfer,
  TransferTapError,
} from "./transfer_tap.ts";

/** Parses the legacy SCP protocol stream from the side that sends files (`scp -t`: client, `scp -f`: server). */
export class ScpTap {
  #line: number[] = [];
  #skip = 0;
  #dirs: string[] = [];
  #awaitingNul = false;
  /** the file whose bytes are passing, reported with their hash once they all have */
  #file: { t: Transfer; hash: Hash; sink: ContentSink | null } | null = null;

  constructor(
    private readonly direction: "upload" | "download",
    private readonly target: string,
    private readonly emit: EmitTransfer,
    /** uploads: file names are relative to the target directory; otherwise the target is the file */
    private readonly targetIsDir = true,
    /** where each file's content also goes (kept files), if anywhere */
    private readonly open?: OpenContent,
  ) {}

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        this.#file?.hash.update(part);
        this.#file?.sink?.write(part);
        this.#skip -= n;
        off += n;
        if (this.#skip === 0) this.#fileDone();
        continue;
      }
      const b = chunk[off++];
      if (this.#awaitingNul) {
        // after a file's bytes the sender writes one status byte (0 = ok)
        this.#awaitingNul = false;
        if (b === 0) continue;
      }
      if (b === 0x0a) {
        this.#directive(new TextDecoder().decode(new Uint8Array(this.#line)));
        this.#line = [];
      } else {
        if (this.#line.length >= MAX_NAME + 64) {
          throw new TransferTapError("malformed", "SCP control line too long");
        }
        this.#line.push(b);
      }
    }
  }

  #fileDone(): void {
    const f = this.#file;
    if (!f) return;
    this.#file = null;
    this.emit({ ...f.t, sha256: f.hash.digest("hex") }, f.sink);
  }

  /** The channel ended: a file whose bytes had not all passed is reported as incomplete, without a hash. */
  finish(): void {
    const f = this.#file;
    if (!f) return;
    this.#file = null;
    this.emit({ ...f.t, bytes: f.t.bytes - this.#skip, incomplete: true }, f.sink);
  }

  #directive(line: string): void {
    const kind = line[0];
    if (kind === "C" || kind === "D") {
      const m = /^[CD]([0-7]{4}) (\d{1,20}) (.+)$/.exec(line);
      if (!m) throw new TransferTapError("malformed", "bad SCP file line");
      const name = m[3];
      if (kind === "D") {
        this.#dirs.push(name);
        return;
      }
      const size = Number(m[2]);
      if (!Number.isSafeInteger(size)) throw new TransferTapError("malformed", "SCP size out of range");
      const base = this.#dirs.length ? this.#dirs.join("/") + "/" : "";
      const t: Transfer = {
        protocol: "scp",
        op: this.direction,
        path: this.direction === "download"
          ? base + name
          : this.targetIsDir || base !== ""
          ? joinTarget(this.target, base + name)
          : this.target,
        bytes: size,
      };
      this.#file = { t, hash: createHash("sha256"), sink: this.open?.(t, size) ?? null };
      this.#skip = size;
      this.#awaitingNul = true;
      if (size === 0) this.#fileDone();
    } else if (kind === "E") {
      this.#dirs.pop();
    } else if (kind === "T") {
      // times, nothing to report
    } else if (kind === "\x01" || kind === "\x02") {
      // a warning/error line from the sender
    } else {
      throw new TransferTapError("malformed", "unknown SCP directive");
    }
  }
}

function joinTarget(target: string, rel: string): string {
  return target === "" || target === "." ? rel : `${target.replace(/\/+$/, "")}/${rel}`;
}

export interface ScpCommand {
  direction: "upload" | "download";
  path: string;
  /** the sink was told the target is a directory (-d, -r) or the path says so */
  targetIsDir: boolean;
}

/** Recognises `scp -t PATH` (upload) and `scp -f PATH` (download) as OpenSSH's scp runs them remotely. */
export function parseScpCommand(command: string): ScpCommand | null {
  const words = command.trim().split(/\s+/);
  if (words[0] !== "scp" && !words[0]?.endsWith("/scp")) return null;
  let direction: ScpCommand["direction"] | null = null;
  let dirFlag = false;
  const paths: string[] = [];
  for (const w of words.slice(1)) {
    if (w === "--") continue;
    if (w.startsWith("-")) {
      if (w.includes("t")) direction = "upload";
      if (w.includes("f")) direction = "download";
      if (w.includes("d") || w.includes("r")) dirFlag = true;
    } else paths.push(w.replace(/^'(.*)'$/, "$1"));
  }
  const path = paths.join(" ");
  return direction ? { direction, path, targetIsDir: dirFlag || path.endsWith("/") } : null;
}
