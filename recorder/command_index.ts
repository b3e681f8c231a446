// Indexes what a finished SSH session ran, for search: every exec command (from the session's metadata),
// every file it moved by scp/SFTP (path, operation, SHA-256), and every command line typed in its terminal
// recordings (recorder/typed_lines.ts), each with its moment.
// Runs after the session has closed, off the relay's path; running it again replaces the session's rows.
import type { Sql } from "../db/client.ts";
import { type CommandRow, indexSessionCommands } from "../db/session_commands.ts";
import { recordingsOfSession } from "../db/session_queries.ts";
import { castEvents, typedLines } from "./typed_lines.ts";
import { readRecordingPrefix } from "./recording_read.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";

/** Largest recording read for its typed lines (a longer one is indexed up to here). */
const MAX_CAST_BYTES = 64 * 2 ** 20;

interface Transfer {
  protocol?: string;
  op?: string;
  path?: string;
  to?: string;
  sha256?: string;
}

/** A moved file as one searchable line: "sftp write /etc/app.conf sha256:…" (pure). */
export function transferLine(t: Transfer): string | null {
  if (!t.path) return null;
  const to = t.to ? ` -> ${t.to}` : "";
  const hash = t.sha256 ? ` sha256:${t.sha256}` : "";
  return `${t.protocol ?? "file"} ${t.op ?? "open"} ${t.path}${to}${hash}`.slice(0, 4096);
}

interface Channel {
  type?: string;
  command?: string;
  recording?: string;
  started_at?: string;
}

/** `keys` open encrypted recordings (without them those are skipped). */
export async function indexSessionCommandsOf(
  sql: Sql,
  sessionRowId: number,
  keys?: RecordingKeys,
): Promise<number> {
  const [s] = await sql<{ metadata: { channels?: Channel[]; transfers?: Transfer[] }; started_at: Date }[]>`
    SELECT metadata, started_at FROM sessions WHERE id = ${sessionRowId}`;
  if (!s) return 0;
  const recordings = await recordingsOfSession(sql, sessionRowId);
  const rows: CommandRow[] = [];
  for (const c of s.metadata.channels ?? []) {
    if (c.type !== "exec" || !c.command || !c.started_at) continue;
    const rec = recordings.find((r) => r.path === c.recording);
    rows.push({
      sessionRowId,
      recordingId: rec?.id ?? null,
      kind: "exec",
      at: new Date(c.started_at),
      offsetSeconds: rec ? 0 : null,
      text: c.command.slice(0, 4096),
    });
  }
  // files moved by scp/SFTP: no moment of their own in the metadata, so the session's start stands for it
  for (const t of s.metadata.transfers ?? []) {
    const text = transferLine(t);
    if (text) {
      rows.push({
        sessionRowId,
        recordingId: null,
        kind: "file",
        at: s.started_at,
        offsetSeconds: null,
        text,
      });
    }
  }
  for (const r of recordings) {
    if (r.kind !== "asciicast") continue;
    let text: string;
    try {
      text = new TextDecoder().decode(await readRecordingPrefix(r.path, keys, MAX_CAST_BYTES));
    } catch (_e) {
      continue; // a missing or unreadable file has nothing to index (recordings verify reports it)
    }
    const start = new Date(r.started_at).getTime();
    for (const l of typedLines(castEvents(text, "i"))) {
      rows.push({
        sessionRowId,
        recordingId: r.id,
        kind: "typed",
        at: new Date(start + l.at * 1000),
        offsetSeconds: l.at,
        text: l.text,
      });
    }
  }
  await indexSessionCommands(sql, sessionRowId, rows);
  return rows.length;
}
