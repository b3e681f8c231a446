// HTTP Range requests (RFC 9110 §14) for one byte range, so browsers can seek in served videos.
export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/** Pure: the range to serve for a `Range` header and a file size. Several ranges are served in full. */
export function parseRange(header: string | undefined | null, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return { kind: "full" };
  if (m[1] === "") {
    // suffix: the last N bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}

/** A response body for a file, honouring a Range header (the file is closed when the body ends). */
export async function fileResponse(
  path: string,
  type: string,
  rangeHeader: string | undefined,
  extra: HeadersInit = {},
): Promise<Response> {
  const file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const r = parseRange(rangeHeader, size);
  const headers = new Headers(extra);
  headers.set("Content-Type", type);
  headers.set("Accept-Ranges", "bytes");
  headers.set("Cache-Control", "no-store");
  if (r.kind === "unsatisfiable") {
    file.close();
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  if (r.kind === "full") {
    headers.set("Content-Length", String(size));
    return new Response(file.readable, { status: 200, headers });
  }
  await file.seek(r.start, Deno.SeekMode.Start);
  let left = r.end - r.start + 1;
  const body = file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        if (left <= 0) return;
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        ctrl.enqueue(part);
        if (left <= 0) ctrl.terminate();
      },
    }),
  );
  headers.set("Content-Range", `bytes ${r.start}-${r.end}/${size}`);
  headers.set("Content-Length", String(r.end - r.start + 1));
  return new Response(body, { status: 206, headers });
}
