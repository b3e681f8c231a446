// What a channel without a terminal (`ssh -T host CMD`, a subsystem other than SFTP) leaves in its
// recording: stdin as input events, stdout and stderr as output, up to `keepBytes` per direction; every byte,
// kept or not, is counted and hashed (SHA-256), so the channel's metadata proves what passed even where the
// content was not kept. Bulk pipes (tar, dd) stay affordable; interactive use (bash -i) fits far below it.
import { createHash, type Hash } from "node:crypto";

export type StreamName = "stdin" | "stdout" | "stderr";

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
   * Counts `d` and says how much of it the recording keeps (a prefix; 0 once over the limit) and whether this
   * chunk is where the direction crossed it (the recording notes the cut there, once).
   */
  pass(name: StreamName, d: Uint8Array): { keep: number; crossed: boolean } {
    const dir = this.#dirs[name];
    dir.hash.update(d);
    const before = dir.bytes;
    dir.bytes += d.length;
    if (this.keepBytes === 0) return { keep: d.length, crossed: false };
    const keep = Math.min(Math.max(0, this.keepBytes - before), d.length);
    dir.notKept += d.length - keep;
    const crossed = keep < d.length && !dir.cutNoted;
    if (crossed) dir.cutNoted = true;
    return { keep, crossed };
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
