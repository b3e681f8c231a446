// Finding and opening a session's terminal recording, only below the recordings directory.
import { realPath } from "./fs_util.ts";
import type { Sql } from "../db/client.ts";
import { recordingsOfSession, type SessionRow } from "../db/session_queries.ts";
import { HttpError } from "./errors.tsx";

/** The asciicast of an SSH session: the first terminal recording row, else sessions.recording_path. */
export async function castPathOf(sql: Sql, s: SessionRow): Promise<string | null> {
  const recs = await recordingsOfSession(sql, s.id);
  const cast = recs.find((r) => r.kind === "asciicast");
  if (cast) return cast.path;
  if (s.protocol === "ssh" && s.recording_path) return s.recording_path;
  return null;
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
