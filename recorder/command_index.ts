// Indexes what a finished session did, for search, each with its moment. SSH: every exec command (from the
// session's metadata), every file it moved by scp/SFTP (path, operation, SHA-256), every command line typed
// in its terminal recordings (recorder/typed_lines.ts) and the lines the terminals showed, bounded
// (recorder/output_lines.ts). RDP: the lines typed on the desktop after logon (recorder/key_lines.ts, kept in
// the session's metadata by the proxy) and the clipboard texts.
// Runs after the session has closed, off the relay's path; running it again replaces the session's rows.
import type { Sql } from "../db/client.ts";
import { type CommandRow, indexSessionCommands } from "../db/session_commands.ts";
import { recordingsOfSession } from "../db/session_queries.ts";
import { castEvents, typedLines } from "./typed_lines.ts";
import { OutputLines } from "./output_lines.ts";
import type { KeyLine } from "./key_lines.ts";
import { placeInRecording, type TimedRecording } from "./rdp_timeline.ts";
import { readRecordingPrefix } from "./recording_read.ts";
import type { RecordingKeys } from "../core/recording_identity.ts";

/** Output events parsed per recording for its lines (the index keeps fewer: OUTPUT_LIMITS). */
const OUTPUT_SCAN_CHARS = 8 * 2 ** 20;

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

interface SessionMetadata {
  channels?: Channel[];
  transfers?: Transfer[];
  /** RDP: lines typed after logon (proxy/rdp/meta_events.ts) */
  key_lines?: KeyLine[];
  /** RDP: clipboard events */
  clipboard?: { type?: string; at?: string; text?: string; from?: string }[];
}

/** An RDP session's typed lines and clipboard texts, each placed in the recording that was running (pure). */
export function rdpRows(
  sessionRowId: number,
  m: SessionMetadata,
  recordings: TimedRecording[],
): CommandRow[] {
  const rows: CommandRow[] = [];
  for (const l of m.key_lines ?? []) {
    const p = placeInRecording(l.at, recordings);
    if (p && l.text) rows.push({ sessionRowId, kind: "keys", text: l.text.slice(0, 4096), ...p });
  }
  for (const c of m.clipboard ?? []) {
    if (c.type !== "clipboard_text" || !c.text || !c.at) continue;
    const p = placeInRecording(c.at, recordings);
    if (p) rows.push({ sessionRowId, kind: "clipboard", text: c.text.slice(0, 4096), ...p });
  }
  return rows;
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
  const [s] = await sql<{ metadata: SessionMetadata; started_at: Date; protocol: string }[]>`
    SELECT metadata, started_at, protocol FROM sessions WHERE id = ${sessionRowId}`;
  if (!s) return 0;
  const recordings = await recordingsOfSession(sql, sessionRowId);
  const rows: CommandRow[] = s.protocol === "rdp" ? rdpRows(sessionRowId, s.metadata, recordings) : [];
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
    // input events always; output events while the session's output bound is not reached
    const shown = new OutputLines();
    let outputBudget = OUTPUT_SCAN_CHARS;
    const events = castEvents(text, (code, line) => code !== "o" || (outputBudget -= line.length) > 0);
    for (const [at, code, data] of events) if (code === "o") shown.add(at, data);
    const end = events.length ? events[events.length - 1][0] : 0;
    for (const l of shown.lines(end)) {
      rows.push({
        sessionRowId,
        recordingId: r.id,
        kind: "output",
        at: new Date(start + l.at * 1000),
        offsetSeconds: l.at,
        text: l.text,
      });
    }
    for (const l of typedLines(events)) {
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
