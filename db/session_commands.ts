// session_commands: the command lines of recorded sessions, for "who ran X, where, when".
import type { Sql } from "./client.ts";

/** typed and output: SSH terminals; exec and file: SSH channels; keys and clipboard: RDP desktops */
export type CommandKind = "typed" | "exec" | "file" | "output" | "keys" | "clipboard";

export interface CommandRow {
  sessionRowId: number;
  recordingId: number | null;
  kind: CommandKind;
  at: Date;
  offsetSeconds: number | null;
  text: string;
}

/** Replaces the indexed commands of one session (indexing again gives the same rows, never twice). */
export async function indexSessionCommands(
  sql: Sql,
  sessionRowId: number,
  rows: CommandRow[],
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`DELETE FROM session_commands WHERE session_id = ${sessionRowId}`;
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500).map((r) => ({
        session_id: r.sessionRowId,
        recording_id: r.recordingId,
        kind: r.kind,
        at: r.at,
        offset_seconds: r.offsetSeconds,
        text: r.text,
      }));
      await tx`INSERT INTO session_commands ${tx(part)}`;
    }
  });
}

export interface SearchHit {
  session_id: string;
  user_name: string;
  server_name: string;
  ssh_login: string | null;
  protocol: string;
  kind: CommandKind;
  at: Date;
  offset_seconds: number | null;
  /** the recording the moment is in (RDP: which of a reconnected session's recordings) */
  recording_id: number | null;
  text: string;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}

/** Commands containing `text` (case-insensitive), newest first. */
export function searchCommands(
  sql: Sql,
  f: { text: string; since?: Date; limit?: number },
): Promise<SearchHit[]> {
  // trigrams index 3 characters and more; a shorter text that rarely matches would read every line
  if ([...f.text.trim()].length < 3) {
    return Promise.reject(new RangeError("search for at least 3 characters"));
  }
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const like = `%${escapeLike(f.text)}%`;
  return sql<SearchHit[]>`
    SELECT s.session_id, s.user_name, s.server_name, s.ssh_login, s.protocol, c.kind, c.at, c.offset_seconds,
           c.recording_id, c.text
    FROM session_commands c JOIN sessions s ON s.id = c.session_id
    WHERE c.text ILIKE ${like} ${f.since ? sql`AND c.at >= ${f.since}` : sql``}
    ORDER BY c.at DESC, c.id DESC LIMIT ${limit}`;
}

/** Ended sessions to index (for `jumphost search reindex`). */
export function sessionsToIndex(sql: Sql, since: Date | null): Promise<{ id: number; started_at: Date }[]> {
  return sql<{ id: number; started_at: Date }[]>`
    SELECT id, started_at FROM sessions WHERE NOT is_active
      ${since ? sql`AND started_at >= ${since}` : sql``}
    ORDER BY id`;
}
