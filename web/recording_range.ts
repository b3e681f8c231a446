// A recording's plaintext over HTTP with one byte range (the in-browser RDP player reads from a keyframe's
// offset on). A plain file is served as it is (range.ts); an encrypted one (`.age`) is decrypted as it is
// sent, the range counted in plaintext bytes: what comes before the range is decrypted and dropped, so a
// seek late into a long encrypted recording costs reading it up to there.
import { isAgePath } from "../core/age_file.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";
import { openRecordingSource, type RecordingSource } from "../recorder/recording_read.ts";
import { fileResponse, parseRange } from "./range.ts";

const CHUNK = 64 * 1024;

export async function recordingRangeResponse(
  path: string,
  keys: RecordingKeys | undefined,
  type: string,
  rangeHeader: string | undefined,
  extra: HeadersInit = {},
): Promise<Response> {
  if (!isAgePath(path)) return await fileResponse(path, type, rangeHeader, extra);
  const src = await openRecordingSource(path, keys);
  const size = src.size;
  const r = parseRange(rangeHeader, size);
  const headers = new Headers(extra);
  headers.set("Content-Type", type);
  headers.set("Accept-Ranges", "bytes");
  headers.set("Cache-Control", "no-store");
  if (r.kind === "unsatisfiable") {
    await src.close();
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const start = r.kind === "partial" ? r.start : 0;
  const end = r.kind === "partial" ? r.end : size - 1;
  try {
    await skip(src, start);
  } catch (e) {
    await src.close();
    throw e;
  }
  let left = end - start + 1;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, left)));
        const n = left > 0 ? await src.read(buf) : null;
        if (n === null) {
          await src.close();
          return ctrl.close();
        }
        left -= n;
        ctrl.enqueue(buf.subarray(0, n));
      } catch (e) {
        await src.close();
        ctrl.error(e);
      }
    },
    cancel: () => src.close(),
  });
  headers.set("Content-Length", String(end - start + 1));
  if (r.kind === "partial") {
    headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
    return new Response(body, { status: 206, headers });
  }
  return new Response(body, { status: 200, headers });
}

async function skip(src: RecordingSource, n: number): Promise<void> {
  const scratch = new Uint8Array(CHUNK);
  while (n > 0) {
    const got = await src.read(scratch.subarray(0, Math.min(CHUNK, n)));
    if (got === null) return;
    n -= got;
  }
}
