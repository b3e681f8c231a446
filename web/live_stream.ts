// Streams a growing asciicast to the browser as server-sent events: the header, then terminal output
// as it is appended (polled every `pollMs`), then "end" once the session is over and the file drained.
import type { SSEStreamingApi } from "hono/streaming";
import { CastTail } from "./live_tail.ts";

export interface LiveOptions {
  pollMs?: number;
  /** how much existing output to replay on connect; older output is skipped */
  backlogBytes?: number;
  /** how often to ask whether the session is still active */
  activeCheckMs?: number;
  /** stops the stream without the final "end" event (the console session that opened it ended) */
  signal?: AbortSignal;
}

async function readHeaderLine(f: Deno.FsFile): Promise<{ line: Uint8Array; end: number } | null> {
  const buf = new Uint8Array(16 * 1024);
  const n = await f.read(buf);
  if (n === null) return null;
  const nl = buf.subarray(0, n).indexOf(10);
  if (nl < 0) return null;
  return { line: buf.slice(0, nl + 1), end: nl + 1 };
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
  let f: Deno.FsFile | null = null;
  for (let i = 0; i < 40 && !stopped(); i++) {
    try {
      f = await Deno.open(path, { read: true });
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
    let header = await readHeaderLine(f);
    for (let i = 0; header === null && i < 40 && !stopped(); i++) {
      await stream.sleep(pollMs);
      await f.seek(0, Deno.SeekMode.Start);
      header = await readHeaderLine(f);
    }
    if (!header) return;
    const headTail = new CastTail();
    const [h] = headTail.push(header.line);
    if (h?.kind === "header") {
      await stream.writeSSE({ event: "header", data: JSON.stringify({ width: h.width, height: h.height }) });
    }
    const size = (await f.stat()).size;
    const midLine = size - header.end > backlog;
    await f.seek(midLine ? size - backlog : header.end, Deno.SeekMode.Start);
    const tail = new CastTail({ afterHeader: true, skipPartial: midLine });
    const buf = new Uint8Array(64 * 1024);
    let idle = 0;
    let ended = false;
    while (!stopped()) {
      const n = await f.read(buf);
      if (n !== null && n > 0) {
        let out = "";
        for (const ev of tail.push(buf.subarray(0, n))) {
          if (ev.kind === "o") out += ev.data;
          else if (ev.kind === "r") {
            if (out) await stream.writeSSE({ event: "o", data: JSON.stringify(out) });
            out = "";
            await stream.writeSSE({ event: "r", data: JSON.stringify(ev.data) });
          }
        }
        if (out) await stream.writeSSE({ event: "o", data: JSON.stringify(out) });
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
    f.close();
  }
}
