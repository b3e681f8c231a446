// Finding and opening a session's terminal recording, only below the recordings directory.
import { type RecordingKeys, recordingKeys } from "../core/recording_identity.ts";
import { realPath } from "./fs_util.ts";
import type { Sql } from "../db/client.ts";
import { recordingsOfSession, type SessionRow } from "../db/session_queries.ts";
import { HttpError } from "./errors.tsx";
import { writeAudit } from "../db/audit.ts";

/**
 * Audits one read of a recording's content by a console user, in any format (the asciicast for the player or
 * as a download, an MP4, a raw RDP file): who, which session and recording, how. A range request that does
 * not start at byte 0 is a piece of a read already audited.
 */
export async function auditRecordingRead(
  sql: Sql,
  nodeId: string,
  r: {
    actor: string;
    sourceIp: string | null;
    sessionId: string;
    recording: number | null;
    /** file: a file a session moved by scp/SFTP, kept by its server group (its sha256 says which) */
    format: "asciicast" | "mp4" | "rdp" | "file";
    sha256?: string;
    download: boolean;
    range?: string;
    /** what of it: a keyframe of its seek index (the in-browser RDP player seeking), the live view */
    part?: "keyframe" | "live";
  },
): Promise<void> {
  if (r.range && !/^bytes=0-/.test(r.range.trim())) return;
  await writeAudit(sql, {
    actor: r.actor,
    action: "recording.download",
    target: r.sessionId,
    sourceIp: r.sourceIp,
    success: true,
    details: {
      recording: r.recording,
      format: r.format,
      ...(r.sha256 ? { sha256: r.sha256 } : {}),
      via: r.download ? "download" : "view",
      ...(r.part ? { part: r.part } : {}),
    },
  }, nodeId);
}

/** What opens encrypted recordings (`.age`): the appliance's identity, read on the first such file. */
export function consoleRecordingKeys(dataDir: string | undefined): RecordingKeys | undefined {
  return dataDir ? recordingKeys(dataDir) : undefined;
}

/** The asciicast of an SSH session: the first terminal recording row, else sessions.recording_path. */
export async function castPathOf(sql: Sql, s: SessionRow): Promise<string | null> {
  const recs = await recordingsOfSession(sql, s.id);
  const cast = recs.find((r) => r.kind === "asciicast");
  if (cast) return cast.path;
  if (s.protocol === "ssh" && s.recording_path) return s.recording_path;
  return null;
}

/** The recordings row id of a session's asciicast at `path` (null: an old row with only recording_path). */
export async function castRecordingId(sql: Sql, s: SessionRow, path: string): Promise<number | null> {
  return (await recordingsOfSession(sql, s.id)).find((r) => r.path === path)?.id ?? null;
}

/**
 * Resolves symlinks and refuses anything outside `root` (when given) or not a regular file, so a bad
 * row can never make the console serve an arbitrary file.
 */
export async function checkedRecordingPath(path: string, root: string | undefined): Promise<string> {
  const real = await realPath(path);
  if (real === null) throw new HttpError(404, "The recording file is missing.");
  if (root) {
    const r = await realPath(root);
    if (r === null || !(real === r || real.startsWith(r.endsWith("/") ? r : r + "/"))) {
      throw new HttpError(404, "The recording file is outside the recordings directory.");
    }
  }
  const st = await Deno.stat(real);
  if (!st.isFile) throw new HttpError(404, "The recording is not a file.");
  return real;
}
