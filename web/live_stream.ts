// Streams a growing asciicast to the browser as server-sent events: the header, then terminal output
// as it is appended (polled every `pollMs`), then "end" once the session is over and the file drained.
// An encrypted recording (`.age`) is followed chunk by chunk (recorder/recording_read.ts followRecording);
// its writer seals what it has every second, so the view runs at most that much behind.
import type { SSEStreamingApi } from "hono/streaming";
import { CastTail } from "./live_tail.ts";
import { followRecording, type RecordingSource } from "../recorder/recording_read.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";

export interface LiveOptions {
  pollMs?: number;
  /** how much existing output to replay on connect; older output is skipped */
  backlogBytes?: number;
  /** how often to ask whether the session is still active */
  activeCheckMs?: number;
  /** stops the stream without the final "end" event (the console session that opened it ended) */
  signal?: AbortSignal;
  /** opens an encrypted recording */
  keys?: RecordingKeys;
}

/** Reads what is there now; null when nothing is. */
async function readSome(f: RecordingSource, buf: Uint8Array): Promise<Uint8Array | null> {
  const n = await f.read(buf);
  return n === null || n === 0 ? null : buf.subarray(0, n);
}

export async function streamCast(
  stream: SSEStreamingApi,
  path: string,
  isActive: () => Promise<boolean>,
  opts: LiveOptions = {},
): Promise<void> {
  const pollMs = opts.pollMs ?? 150;
  const backlog = opts.backlogBytes ?? 512 * 1024;
  const checkEvery = Math.max(1, Math.round((opts.activeCheckMs ?? 1000) / pollMs));
  const stopped = () => stream.aborted || (opts.signal?.aborted ?? false);
  // the file may appear a moment after the session row
  let f: RecordingSource | null = null;
  for (let i = 0; i < 40 && !stopped(); i++) {
    try {
      f = await followRecording(path, opts.keys);
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await stream.sleep(pollMs);
    }
  }
  if (!f) {
    if (!stopped()) await stream.writeSSE({ event: "end", data: '"no recording"' });
    return;
  }
  try {
    const buf = new Uint8Array(64 * 1024);
    // the header line, as it becomes readable
    let head: Uint8Array = new Uint8Array(0);
    let nl = -1;
    for (let i = 0; nl < 0 && i < 40 && !stopped(); i++) {
      const got = await readSome(f, buf);
      if (got) {
        head = concat([head, got]);
        nl = head.indexOf(10);
        if (nl < 0 && head.length > 16 * 1024) return;
        i = 0;
      } else await stream.sleep(pollMs);
    }
    if (nl < 0) return;
    const headTail = new CastTail();
    const [h] = headTail.push(head.subarray(0, nl + 1));
    if (h?.kind === "header") {
      await stream.writeSSE({ event: "header", data: JSON.stringify({ width: h.width, height: h.height }) });
    }
    // the backlog: a plain file seeks to its last `backlog` bytes; an encrypted one is read through
    let rest: Uint8Array = head.subarray(nl + 1);
    let midLine = false;
    if (f.skipToTail) {
      midLine = await f.skipToTail(backlog, nl + 1);
      rest = new Uint8Array(0);
    } else {
      const parts = [rest];
      let total = rest.length;
      for (let got = await readSome(f, buf); got; got = await readSome(f, buf)) {
        parts.push(got.slice());
        total += got.length;
        while (total - parts[0].length > backlog) total -= parts.shift()!.length;
      }
      rest = concat(parts);
      if (rest.length > backlog) {
        rest = rest.subarray(rest.length - backlog);
        midLine = true;
      }
    }
    const tail = new CastTail({ afterHeader: true, skipPartial: midLine });
    const send = async (bytes: Uint8Array) => {
      let out = "";
      for (const ev of tail.push(bytes)) {
        if (ev.kind === "o") out += ev.data;
        else if (ev.kind === "r") {
          if (out) await stream.writeSSE({ event: "o", data: JSON.stringify(out) });
          out = "";
          await stream.writeSSE({ event: "r", data: JSON.stringify(ev.data) });
        }
      }
      if (out) await stream.writeSSE({ event: "o", data: JSON.stringify(out) });
    };
    if (rest.length) await send(rest);
    let idle = 0;
    let ended = false;
    while (!stopped()) {
      const got = await readSome(f, buf);
      if (got) {
        await send(got);
        continue;
      }
      if (ended) break;
      if (++idle % checkEvery === 0 && !(await isActive())) {
        // one more pass reads what was written before the session ended
        ended = true;
        continue;
      }
      await stream.sleep(pollMs);
    }
    if (!stopped()) await stream.writeSSE({ event: "end", data: '"ended"' });
  } finally {
    await f.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
