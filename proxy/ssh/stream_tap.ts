// What a channel without a terminal (`ssh -T host CMD`, a subsystem other than SFTP) leaves in its
// recording: stdin as input events, stdout and stderr as output, up to `keepBytes` per direction; every byte,
// kept or not, is counted and hashed (SHA-256), so the channel's metadata proves what passed even where the
// content was not kept. Bulk pipes (tar, dd) stay affordable; interactive use (bash -i) fits far below it.
import { createHash, type Hash } from "node:crypto";

export type StreamName = "stdin" | "stdout" | "stderr";

export interface PassVerdict {
  keep: number;
  crossed: boolean;
  edge: "binary_start" | "binary_end" | null;
}

/**
 * Pure: a chunk is binary when more than a tenth of its bytes are control bytes no text uses (NUL, DEL and
 * C0 controls other than tab, newlines, form feed, CR and ESC) or it is not UTF-8. A few odd bytes in text do
 * not make it binary, so stray NULs cannot hide typed commands.
 */
export function looksBinary(d: Uint8Array): boolean {
  // one pass with a table (4x the branchy test's speed on bulk data, bench/ssh): odd bytes and any high bit
  let odd = 0, high = 0;
  for (let i = 0; i < d.length; i++) {
    const b = d[i];
    odd += ODD[b];
    high |= b;
  }
  if (odd * 10 > d.length) return true;
  if (odd > 0 || high & 0x80) {
    // a character split across two SSH packets: this chunk may start inside it
    let start = 0;
    while (start < 3 && start < d.length && (d[start] & 0xc0) === 0x80) start++;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(d.subarray(start), { stream: true });
    } catch (_e) {
      return true;
    }
  }
  return false;
}

/** 1 for the control bytes no text uses (NUL, DEL, C0 controls but tab, newlines, form feed, CR, ESC) */
const ODD = new Uint8Array(256).map((_, b) =>
  (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) || b === 0x7f ? 1 : 0
);

export interface StreamSummary {
  bytes: number;
  sha256: string;
  /** bytes left out of the recording once the direction passed the limit */
  not_kept?: number;
}

class Direction {
  bytes = 0;
  notKept = 0;
  cutNoted = false;
  binary = false;
  hash: Hash = createHash("sha256");
}

export class StreamTap {
  #dirs: Record<StreamName, Direction> = {
    stdin: new Direction(),
    stdout: new Direction(),
    stderr: new Direction(),
  };

  /** @param keepBytes per direction; 0 = no limit */
  constructor(private readonly keepBytes: number) {}

  /**
   * Counts `d` and says how much of it the recording keeps (a prefix; 0 once over the limit, or for binary
   * data), whether this chunk is where the direction crossed the limit (noted once), and where a run of
   * binary data starts or ends (binary is hashed, not kept: as JSON text it costs ten times its size to
   * record and shows nothing readable).
   */
  pass(name: StreamName, d: Uint8Array): PassVerdict {
    const dir = this.#dirs[name];
    dir.hash.update(d);
    const before = dir.bytes;
    dir.bytes += d.length;
    if (this.keepBytes !== 0 && before >= this.keepBytes) {
      // past the limit nothing is kept: no need to look at the bytes (a bulk pipe costs only its hash)
      dir.notKept += d.length;
      return { keep: 0, crossed: !dir.cutNoted && (dir.cutNoted = true), edge: null };
    }
    const binary = looksBinary(d);
    const edge = binary === dir.binary ? null : binary ? "binary_start" : "binary_end";
    dir.binary = binary;
    if (binary) {
      dir.notKept += d.length;
      return { keep: 0, crossed: false, edge };
    }
    if (this.keepBytes === 0) return { keep: d.length, crossed: false, edge };
    const keep = Math.min(Math.max(0, this.keepBytes - before), d.length);
    dir.notKept += d.length - keep;
    const crossed = keep < d.length && !dir.cutNoted;
    if (crossed) dir.cutNoted = true;
    return { keep, crossed, edge };
  }

  summary(): Record<StreamName, StreamSummary> {
    const out = {} as Record<StreamName, StreamSummary>;
    for (const name of ["stdin", "stdout", "stderr"] as const) {
      const d = this.#dirs[name];
      out[name] = { bytes: d.bytes, sha256: d.hash.copy().digest("hex") };
      if (d.notKept) out[name].not_kept = d.notKept;
    }
    return out;
  }
}
