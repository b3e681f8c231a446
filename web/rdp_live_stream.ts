// Streams a growing RDP recording to the browser as server-sent events, for the live view. The proxy's
// recording tap writes records as they pass, so following the file is following the session (from any node
// sharing recordings_dir). A viewer who joins mid-session first gets the current screen: the recording so
// far is replayed here with the renderer and sent as one keyframe (event "keyframe", a gzip-compressed
// recorder/rdp_replay/keyframe.ts snapshot, with the byte offset it is valid up to); then the file's bytes
// from that offset as they are appended (event "b", base64), which the browser parses and draws with the
// same code as a replay. "end" once the session is over and the file drained; "error" when the recording
// cannot be read or drawn.
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import type { SSEStreamingApi } from "hono/streaming";
import { RecordingFormatError } from "../recorder/rdp_file_format.ts";
import { createRenderer, type Renderer, RenderError } from "../recorder/rdp_render/mod.ts";
import { applyRecord } from "../recorder/rdp_replay/apply.ts";
import { encodeKeyframe } from "../recorder/rdp_replay/keyframe.ts";
import { RecordStream } from "../recorder/rdp_replay/record_stream.ts";
import { followRecording, type RecordingSource } from "../recorder/recording_read.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";

export interface RdpLiveOptions {
  pollMs?: number;
  /** how often to ask whether the session is still active */
  activeCheckMs?: number;
  /** stops the stream without the final "end" event (the console session that opened it ended) */
  signal?: AbortSignal;
  /** opens an encrypted recording (`.age`), followed chunk by chunk as the proxy seals it */
  keys?: RecordingKeys;
}

const CHUNK = 256 * 1024;

export async function streamRdpLive(
  stream: SSEStreamingApi,
  path: string,
  isActive: () => Promise<boolean>,
  opts: RdpLiveOptions = {},
): Promise<void> {
  const pollMs = opts.pollMs ?? 200;
  const checkEvery = Math.max(1, Math.round((opts.activeCheckMs ?? 1000) / pollMs));
  const stopped = () => stream.aborted || (opts.signal?.aborted ?? false);
  let f: RecordingSource | null = null;
  for (let i = 0; i < 40 && !stopped(); i++) { // the file may appear a moment after the session row
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
    const buf = new Uint8Array(CHUNK);
    let idle = 0, ended = false;
    /** the session ended (after one more pass for what was written before) */
    const over = async () => {
      if (ended) return true;
      if (++idle % checkEvery === 0 && !(await isActive())) ended = true;
      else await stream.sleep(pollMs);
      return false;
    };
    // catch up: replay what is there, up to a point between whole updates. The bytes read past the last
    // whole record are kept (not read again: an encrypted file cannot seek back) and sent after the keyframe.
    const rs = new RecordStream();
    let renderer: Renderer | null = null;
    let lastTime = 0;
    let read = 0;
    let kept: { at: number; bytes: Uint8Array }[] = [];
    for (;;) {
      if (stopped()) return;
      const n = await f.read(buf);
      if (n !== null && n > 0) {
        kept.push({ at: read, bytes: buf.slice(0, n) });
        read += n;
        rs.push(buf.subarray(0, n));
        try {
          for (let r; (r = rs.next());) {
            renderer ??= createRenderer({ width: rs.header!.width, height: rs.header!.height });
            applyRecord(renderer, r.type, r.payload);
            lastTime = r.offsetMillis;
          }
        } catch (e) {
          if (!(e instanceof RecordingFormatError || e instanceof RenderError)) throw e;
          await stream.writeSSE({ event: "error", data: JSON.stringify(`${e.message}`) });
          return;
        }
        const consumed = rs.position;
        kept = kept.filter((k) => k.at + k.bytes.length > consumed);
        continue;
      }
      if (rs.header && !renderer?.midUpdate) break;
      if (await over()) {
        await stream.writeSSE({ event: "end", data: '"ended"' });
        return;
      }
    }
    renderer ??= createRenderer({ width: rs.header.width, height: rs.header.height });
    const offset = rs.position;
    await stream.writeSSE({
      event: "keyframe",
      data: JSON.stringify({
        header: rs.header,
        t: lastTime,
        fileOffset: offset,
        complete: rs.complete,
        data: Buffer.from(gzipSync(encodeKeyframe(renderer.snapshot()), { level: 1 })).toString("base64"),
      }),
    });
    // then the bytes as they are appended, from the keyframe's offset on: first those already read
    for (const k of kept) {
      const from = Math.max(0, offset - k.at);
      if (from < k.bytes.length) {
        await stream.writeSSE({ event: "b", data: Buffer.from(k.bytes.subarray(from)).toString("base64") });
      }
    }
    kept = [];
    while (!stopped()) {
      const n = await f.read(buf);
      if (n !== null && n > 0) {
        await stream.writeSSE({ event: "b", data: Buffer.from(buf.subarray(0, n)).toString("base64") });
        continue;
      }
      if (await over()) break;
    }
    if (!stopped()) await stream.writeSSE({ event: "end", data: '"ended"' });
  } finally {
    await f.close();
  }
}
