// The seek index of an RDP recording on disk, built on demand and cached: <dir>/recording-<id>.json
// (what index_builder.ts found, plus where each keyframe sits) and recording-<id>-<build>.kf (the
// keyframes, each gzip-compressed). A changed recording (size or mtime: it was still being written) is
// indexed again. The JSON is renamed into place last, so a reader never sees a half-written index. An
// encrypted recording (`.age`) is read decrypted (recording_read.ts); its offsets are plaintext offsets.

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { RecordingFormatError } from "../rdp_file_format.ts";
import { RenderError } from "../rdp_render/mod.ts";
import { IndexBuilder, type IndexOptions, type KeyframeEntry, type StopPoint } from "./index_builder.ts";
import { encodeKeyframe } from "./keyframe.ts";
import { RecordStream } from "./record_stream.ts";
import { openRecordingSource } from "../recording_read.ts";
import type { RecordingKeys } from "../../core/recording_identity.ts";

const INDEX_VERSION = 1;
const READ_CHUNK = 1 << 20;

export interface StoredKeyframe extends KeyframeEntry {
  /** Byte range of its gzip-compressed snapshot in the .kf file. */
  at: number;
  length: number;
}

export interface RecordingIndex {
  version: number;
  recordingId: number;
  fingerprint: { size: number; mtimeMs: number | null };
  /** Desktop size at the start. */
  width: number;
  height: number;
  /** Time of the last record played (ms). */
  durationMs: number;
  /** Ended with an END record. */
  complete: boolean;
  /** Where playing must stop short of the end of the file, and why; null when the whole file plays. */
  stop: StopPoint | null;
  /** The .kf file's name in the index directory. */
  keyframeFile: string;
  keyframes: StoredKeyframe[];
  /** How long building took (ms). */
  buildMs: number;
}

export function indexDirOf(dataDir: string): string {
  return join(dataDir, "rdp_index");
}

const inFlight = new Map<string, Promise<RecordingIndex>>();

/** The index of a recording: the cached one when it is current, else built now (once at a time). */
export function recordingIndex(
  recordingPath: string,
  recordingId: number,
  dir: string,
  opts: IndexOptions = {},
  keys?: RecordingKeys,
): Promise<RecordingIndex> {
  const key = `${dir}\0${recordingId}`;
  const running = inFlight.get(key);
  if (running) return running;
  const p = current(recordingPath, recordingId, dir, opts, keys).finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

async function current(
  path: string,
  id: number,
  dir: string,
  opts: IndexOptions,
  keys?: RecordingKeys,
): Promise<RecordingIndex> {
  const st = await Deno.stat(path);
  const fp = { size: st.size, mtimeMs: st.mtime?.getTime() ?? null };
  const jsonPath = join(dir, `recording-${id}.json`);
  let old: RecordingIndex | null = null;
  try {
    old = JSON.parse(await Deno.readTextFile(jsonPath)) as RecordingIndex;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  if (
    old?.version === INDEX_VERSION && old.fingerprint.size === fp.size &&
    old.fingerprint.mtimeMs === fp.mtimeMs
  ) return old;
  const built = await buildIndex(path, id, dir, fp, opts, keys);
  if (old && old.keyframeFile !== built.keyframeFile) {
    await Deno.remove(join(dir, old.keyframeFile)).catch(() => {});
  }
  return built;
}

async function buildIndex(
  path: string,
  id: number,
  dir: string,
  fingerprint: RecordingIndex["fingerprint"],
  opts: IndexOptions,
  keys?: RecordingKeys,
): Promise<RecordingIndex> {
  const started = performance.now();
  await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
  const build = crypto.randomUUID().slice(0, 8);
  const keyframeFile = `recording-${id}-${build}.kf`;
  const kf = await Deno.open(join(dir, keyframeFile), { write: true, createNew: true, mode: 0o640 });
  const keyframes: StoredKeyframe[] = [];
  let at = 0;
  const file = await openRecordingSource(path, keys);
  const stream = new RecordStream();
  let builder: IndexBuilder | null = null;
  let stop: StopPoint | null = null;
  let complete = false;
  try {
    const buf = new Uint8Array(READ_CHUNK);
    read: for (;;) {
      const n = await file.read(buf);
      if (n === null) {
        let end;
        try {
          end = stream.end();
        } catch (e) {
          if (!(e instanceof RecordingFormatError)) throw e;
          stop = { kind: "damaged", atMillis: 0, fileOffset: 0, message: e.message };
          break;
        }
        complete = end.complete;
        if (end.truncated) {
          stop = {
            kind: "truncated",
            atMillis: builder?.lastTime ?? 0,
            fileOffset: end.position,
            message: `the file ends inside a record at byte ${end.position} (it was cut short)`,
          };
        }
        break;
      }
      stream.push(buf.subarray(0, n));
      for (;;) {
        let rec;
        try {
          rec = stream.next();
        } catch (e) {
          if (!(e instanceof RecordingFormatError)) throw e;
          stop = {
            kind: "damaged",
            atMillis: builder?.lastTime ?? 0,
            fileOffset: stream.position,
            message: e.message,
          };
          break read;
        }
        if (!rec) break;
        builder ??= new IndexBuilder(stream.header!, opts);
        try {
          const k = builder.feed(rec);
          if (k) {
            const z = gzipSync(encodeKeyframe(k.snapshot), { level: 1 });
            await writeAll(kf, z);
            keyframes.push({ ...k.entry, at, length: z.length });
            at += z.length;
          }
        } catch (e) {
          if (!(e instanceof RenderError)) throw e;
          stop = {
            kind: "unrenderable",
            atMillis: builder.lastTime,
            fileOffset: rec.fileOffset,
            message: `record at ${rec.offsetMillis} ms (byte ${rec.fileOffset}): ${e.message}`,
          };
          break read;
        }
      }
    }
  } catch (e) {
    kf.close();
    await Deno.remove(join(dir, keyframeFile)).catch(() => {});
    throw e;
  } finally {
    await file.close();
  }
  kf.close();
  const header = stream.header;
  const index: RecordingIndex = {
    version: INDEX_VERSION,
    recordingId: id,
    fingerprint,
    width: header?.width ?? 0,
    height: header?.height ?? 0,
    durationMs: builder?.lastTime ?? 0,
    complete,
    stop,
    keyframeFile,
    keyframes,
    buildMs: Math.round(performance.now() - started),
  };
  const tmp = join(dir, `recording-${id}.json.${build}.tmp`);
  await Deno.writeTextFile(tmp, JSON.stringify(index), { mode: 0o640 });
  await Deno.rename(tmp, join(dir, `recording-${id}.json`));
  return index;
}

/** The gzip-compressed bytes of keyframe `n` of an index. */
export async function readKeyframe(
  dir: string,
  index: RecordingIndex,
  n: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = index.keyframes[n];
  if (!k) throw new RangeError(`no keyframe ${n}`);
  const f = await Deno.open(join(dir, index.keyframeFile), { read: true });
  try {
    await f.seek(k.at, Deno.SeekMode.Start);
    const out = new Uint8Array(k.length);
    let got = 0;
    while (got < out.length) {
      const n = await f.read(out.subarray(got));
      if (n === null) throw new Error("keyframe file ends early");
      got += n;
    }
    return out;
  } finally {
    f.close();
  }
}

async function writeAll(f: Deno.FsFile, b: Uint8Array): Promise<void> {
  for (let o = 0; o < b.length;) o += await f.write(b.subarray(o));
}
