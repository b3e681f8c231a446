// Asking for a recording's MP4 (console and CLI): a current cached MP4 is reused; otherwise the
// recording is queued (or its queued job returned). "Current" means the recording still has the size
// and mtime it had when converted, and the MP4 file is still in the cache.
import type { Sql } from "../../db/client.ts";
import {
  ConversionQueueError,
  type ConversionRow,
  enqueueConversion,
  findRecordingRef,
  latestOutputOf,
} from "../../db/conversions.ts";
import { fileSize, type Fingerprint, fingerprintOf, sameFingerprint } from "./cache.ts";

export type ConversionRequestStatus = "cached" | "queued" | "already_queued";

export interface ConversionRequest {
  recordingId: number;
  rush: boolean;
  actor: string;
  now: Date;
}

export async function requestConversion(
  sql: Sql,
  r: ConversionRequest,
): Promise<{ status: ConversionRequestStatus; job: ConversionRow }> {
  const rec = await findRecordingRef(sql, r.recordingId);
  if (!rec) throw new ConversionQueueError("not_found", `recording ${r.recordingId} not found`);
  if (rec.kind !== "rdp") {
    throw new ConversionQueueError("not_rdp", `recording ${r.recordingId} is not an RDP recording`);
  }
  let fp: Fingerprint;
  try {
    fp = await fingerprintOf(rec.path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new ConversionQueueError("no_file", `the file of recording ${rec.id} is missing on this node`);
  }
  const cached = await currentOutput(sql, r.recordingId, fp);
  if (cached) return { status: "cached", job: cached };
  const { job, created } = await enqueueConversion(sql, {
    recordingId: r.recordingId,
    sourceSize: fp.size,
    sourceMtime: fp.mtime,
    rush: r.rush,
    requestedBy: r.actor,
    now: r.now,
  });
  return { status: created ? "queued" : "already_queued", job };
}

/** The newest done job whose MP4 is on disk here and was made from the recording as it is now. */
export async function currentOutput(
  sql: Sql,
  recordingId: number,
  fp: Fingerprint,
): Promise<ConversionRow | null> {
  const done = await latestOutputOf(sql, recordingId);
  if (!done || !done.output_path) return null;
  if (!sameFingerprint({ size: done.source_size, mtime: done.source_mtime }, fp)) return null;
  return (await fileSize(done.output_path)) === null ? null : done;
}
