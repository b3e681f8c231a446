// The MP4 cache: where converted videos live (dataDir/mp4, directory 0750, files 0640), how a recording
// is fingerprinted (size + mtime: a changed recording is converted again), and the size cap (oldest
// MP4s evicted first; their jobs stay "done" without a file, so asking again converts anew).
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { forgetConversionOutput, outputsInUse } from "../../db/conversions_work.ts";

export { DEFAULT_CACHE_MAX_BYTES } from "../../core/conversion.ts";
/** Files no job points at are removed once this old (younger ones may be a conversion finishing now). */
const ORPHAN_AGE_MS = 3600_000;
/** Partial outputs left by a crash. */
const PART_AGE_MS = 24 * 3600_000;

export function mp4CacheDir(dataDir: string): string {
  return join(dataDir, "mp4");
}

export function outputPathFor(dir: string, recordingId: number, jobId: number): string {
  return join(dir, `recording-${recordingId}-job-${jobId}.mp4`);
}

export interface Fingerprint {
  size: number;
  mtime: Date | null;
}

export async function fingerprintOf(path: string): Promise<Fingerprint> {
  const st = await Deno.stat(path);
  return { size: st.size, mtime: st.mtime };
}

/** The recording is the one that was converted (mtime compared to the millisecond, when known). */
export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  if (a.size !== b.size) return false;
  if (a.mtime === null || b.mtime === null) return true;
  return Math.abs(a.mtime.getTime() - b.mtime.getTime()) < 1;
}

export async function ensureCacheDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
  await Deno.chmod(dir, 0o750);
}

/** Size of a regular file, or null when it is not there. */
export async function fileSize(path: string): Promise<number | null> {
  try {
    const st = await Deno.stat(path);
    return st.isFile ? st.size : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export interface CachedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Pure: the files to evict, oldest first, until the rest fits in `capBytes`; `keep` is never evicted. */
export function planEviction(files: CachedFile[], capBytes: number, keep: ReadonlySet<string>): string[] {
  let total = files.reduce((n, f) => n + f.size, 0);
  const out: string[] = [];
  for (const f of [...files].sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))) {
    if (total <= capBytes) break;
    if (keep.has(f.path)) continue;
    out.push(f.path);
    total -= f.size;
  }
  return out;
}

async function listDir(dir: string): Promise<{ mp4: CachedFile[]; part: CachedFile[] }> {
  const mp4: CachedFile[] = [], part: CachedFile[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const isMp4 = e.name.endsWith(".mp4"), isPart = e.name.endsWith(".mp4.part");
      if (!isMp4 && !isPart) continue;
      const path = join(dir, e.name);
      const st = await Deno.stat(path).catch(() => null);
      if (!st) continue; // removed meanwhile
      (isMp4 ? mp4 : part).push({ path, size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { mp4, part };
    throw e;
  }
  return { mp4, part };
}

async function removeQuietly(path: string): Promise<void> {
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * Keeps the cache under `capBytes`: removes crash leftovers and MP4s no job points at, then the oldest
 * MP4s (forgetting them in the database first, so nobody is offered a file about to vanish).
 */
export async function enforceCacheCap(
  sql: Sql,
  dir: string,
  capBytes: number,
  keep: ReadonlySet<string>,
  nowMs: number,
): Promise<{ evicted: string[]; orphans: string[]; totalBytes: number }> {
  const { mp4, part } = await listDir(dir);
  for (const p of part) if (nowMs - p.mtimeMs > PART_AGE_MS) await removeQuietly(p.path);
  const used = await outputsInUse(sql, mp4.map((f) => f.path));
  const orphans = mp4.filter((f) =>
    !used.has(f.path) && !keep.has(f.path) && nowMs - f.mtimeMs > ORPHAN_AGE_MS
  );
  for (const f of orphans) await removeQuietly(f.path);
  const live = mp4.filter((f) => !orphans.includes(f));
  const evicted = planEviction(live, capBytes, keep);
  for (const path of evicted) {
    await forgetConversionOutput(sql, path);
    await removeQuietly(path);
  }
  const gone = new Set(evicted);
  const totalBytes = live.filter((f) => !gone.has(f.path)).reduce((n, f) => n + f.size, 0);
  return { evicted, orphans: orphans.map((f) => f.path), totalBytes };
}
