// Pure: what happened on an RDP desktop, as moments in its recordings — the lines typed after logon, clipboard
// texts and files, files opened or moved on redirected drives, the logon — from the session's metadata
// (proxy/rdp/meta_events.ts). Search hits and the player's timeline place them the same way.

export interface TimedRecording {
  id: number;
  kind: string;
  started_at: Date | string;
}

export interface Placement {
  at: Date;
  recordingId: number | null;
  /** seconds into that recording */
  offsetSeconds: number | null;
}

/** The recording that was running at `iso` (a reconnect starts another), and the offset into it. */
export function placeInRecording(iso: string, recordings: TimedRecording[]): Placement | null {
  const at = new Date(iso);
  if (isNaN(at.getTime())) return null;
  const rdp = recordings.filter((r) => r.kind === "rdp");
  const r = rdp.filter((x) => new Date(x.started_at).getTime() <= at.getTime()).at(-1) ?? rdp[0];
  return {
    at,
    recordingId: r?.id ?? null,
    offsetSeconds: r ? Math.max(0, (at.getTime() - new Date(r.started_at).getTime()) / 1000) : null,
  };
}

export type TimelineKind = "logon" | "typed" | "clipboard" | "file";

export interface TimelineEvent {
  recordingId: number;
  ms: number;
  kind: TimelineKind;
  text: string;
}

interface Meta {
  logged_on_at?: string | null;
  key_lines?: { at: string; text: string }[];
  clipboard?: {
    type?: string;
    at?: string;
    from?: string;
    text?: string;
    files?: { name: string }[];
  }[];
  files?: { at?: string; device?: string; path?: string; action?: string }[];
}

const MAX_TEXT = 120;
const MAX_EVENTS = 1000;
const short = (s: string) => (s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + "…" : s);

/** The session's events in time order, each in the recording it happened in. */
export function rdpTimeline(meta: Meta, recordings: TimedRecording[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const add = (iso: string | undefined | null, kind: TimelineKind, text: string) => {
    if (!iso || !text) return;
    const p = placeInRecording(iso, recordings);
    if (p?.recordingId == null || p.offsetSeconds === null) return;
    out.push({ recordingId: p.recordingId, ms: Math.round(p.offsetSeconds * 1000), kind, text: short(text) });
  };
  add(meta.logged_on_at, "logon", "logon");
  for (const l of meta.key_lines ?? []) add(l.at, "typed", l.text);
  for (const c of meta.clipboard ?? []) {
    if (c.type === "clipboard_text" && c.text) {
      add(
        c.at,
        "clipboard",
        `${c.from === "server" ? "copied on the server" : "pasted from the client"}: ${c.text}`,
      );
    } else if (c.type === "clipboard_files" && c.files?.length) {
      add(c.at, "file", `clipboard files (${c.from}): ${c.files.map((f) => f.name).join(", ")}`);
    }
  }
  for (const f of meta.files ?? []) {
    add(f.at, "file", `${f.action ?? "open"} ${f.device ?? ""}:${f.path ?? ""}`);
  }
  return out.sort((a, b) => a.recordingId - b.recordingId || a.ms - b.ms).slice(0, MAX_EVENTS);
}
