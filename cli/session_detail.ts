// Pure parts of `jumphost sessions show`: what a session did, read defensively out of its metadata JSON
// (written by the SSH and RDP proxies), and the tables that print it.
import { type Cell, table } from "./output.ts";
import type { RecordingRow, SessionRow } from "../db/session_queries.ts";
import type { ConversionRow } from "../db/conversions.ts";

export interface RecordingDetail extends RecordingRow {
  /** size of the file now (a live recording grows), null when it cannot be read */
  file_size: number | null;
  file_error: string | null;
  /** the newest MP4 conversion job of an RDP recording */
  conversion:
    | Pick<ConversionRow, "id" | "state" | "progress" | "error" | "output_path" | "finished_at">
    | null;
}

export interface SessionDetail extends SessionRow {
  recordings: RecordingDetail[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => Array.isArray(v) ? v.filter(isObj) : [];
const text = (v: unknown): string | null =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;

/** "1.5 MiB" */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "-";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) v /= 1024, i++;
  return `${v.toFixed(1)} ${units[i]}`;
}

/** SSH channels: shells, exec commands (with exit), subsystems. */
export function channelRows(metadata: Obj): Cell[][] {
  return objects(metadata.channels).map((c) => {
    const exit = isObj(c.exit) ? (text(c.exit.status) ?? text(c.exit.signal)) : null;
    const pty = isObj(c.pty) ? `${text(c.pty.term) ?? "?"} ${text(c.pty.cols)}x${text(c.pty.rows)}` : null;
    return [text(c.n), text(c.type), text(c.command) ?? text(c.subsystem), pty, exit, text(c.started_at)];
  });
}

export function forwardRows(metadata: Obj): Cell[][] {
  return objects(metadata.forwards).map((f) => [
    text(f.kind),
    `${text(f.host) ?? "?"}:${text(f.port) ?? "?"}`,
    f.allowed === true ? "allowed" : "denied",
    text(f.count),
  ]);
}

/** Files moved over SFTP/SCP (SSH) or the RDP clipboard/drive channels. */
export function transferRows(metadata: Obj): Cell[][] {
  const ssh = objects(metadata.transfers).map((t) => [
    text(t.protocol),
    text(t.op),
    text(t.to) ? `${text(t.path)} -> ${text(t.to)}` : text(t.path),
    typeof t.bytes === "number"
      ? formatBytes(t.bytes) + (t.incomplete === true ? " (incomplete)" : "")
      : null,
    text(t.sha256),
    keptText(t),
  ]);
  const rdp = objects(metadata.files).map((f) => [
    "rdp drive",
    text(f.action),
    text(f.device) ? `${text(f.device)}:${text(f.path) ?? "?"}` : text(f.path),
    null,
    null,
    null,
  ]);
  return [...ssh, ...rdp];
}

/** Whether a transfer's content was kept (the server group's keep-files option), and why not. */
function keptText(t: Obj): string | null {
  if (t.kept === true) return "kept";
  if (t.kept !== false) return null;
  if (t.not_kept === "over_cap") {
    return `not kept: over the cap${typeof t.cap_bytes === "number" ? ` (${formatBytes(t.cap_bytes)})` : ""}`;
  }
  return `not kept: ${text(t.not_kept) ?? "?"}`;
}

function conversionText(c: RecordingDetail["conversion"]): string | null {
  if (!c) return null;
  if (c.state === "running") return `job ${c.id} running ${c.progress.toFixed(0)}%`;
  if (c.state === "done") return `job ${c.id} done: ${c.output_path ?? "-"}`;
  return `job ${c.id} ${c.state}${c.error ? `: ${c.error}` : ""}`;
}

export function recordingRows(recs: RecordingDetail[], rdp: boolean): Cell[][] {
  return recs.map((r) => [
    r.id,
    r.kind,
    r.channel,
    r.path,
    r.file_error ? `(${r.file_error})` : formatBytes(r.file_size ?? r.size),
    r.ended_at ? "closed" : "open",
    ...(rdp ? [conversionText(r.conversion) ?? "not converted"] : []),
  ]);
}

function agentText(d: SessionRow, md: Obj): string {
  if (d.ssh_agent_used) return "forwarded and used";
  return md.agent_forwarded === true ? "forwarded, not used" : "not forwarded";
}

function status(s: SessionRow): string {
  return s.is_active ? "active" : s.termination_reason ?? "ended";
}

/** The human form: a field/value table, then one table per non-empty list. */
export function renderDetail(d: SessionDetail, formatDuration: (s: number | null) => string): string {
  const duration = d.is_active
    ? Math.max(0, (Date.now() - new Date(d.started_at).getTime()) / 1000)
    : d.duration_seconds;
  const md = isObj(d.metadata) ? d.metadata : {};
  const fields: Cell[][] = [
    ["session", d.session_id],
    ["user", d.user_name],
    ["source ip", d.source_ip],
    ["server", d.server_name],
    ["backend", d.backend_ip ? `${d.backend_ip}:${d.backend_port ?? "?"}` : null],
    ["login", d.ssh_login],
    ["protocol", d.protocol],
    ["started", d.started_at],
    ["ended", d.ended_at],
    ["duration", formatDuration(duration) + (d.is_active ? " (so far)" : "")],
    ["status", status(d)],
    ["detail", d.termination_detail],
    ["subsystem", d.subsystem],
    ...(d.protocol === "ssh" ? [["agent", agentText(d, md)]] : []),
    ["node", d.node_id],
    ["policy", d.policy_id],
  ];
  const parts = [table(["field", "value"], fields)];
  const section = (title: string, headers: string[], rows: Cell[][]) => {
    if (rows.length) parts.push(`\n${title}:\n${table(headers, rows)}`);
  };
  section("channels", ["#", "type", "command", "pty", "exit", "started"], channelRows(md));
  section("forwarded", ["kind", "destination", "decision", "count"], forwardRows(md));
  section("transfers", ["protocol", "op", "path", "bytes", "sha256", "content"], transferRows(md));
  const notes = Array.isArray(md.notes) ? md.notes.map(text).filter((n) => n !== null) : [];
  section("notes", ["note"], notes.map((n) => [n]));
  const rdp = d.protocol === "rdp";
  const recHeaders = ["id", "kind", "channel", "path", "size", "state", ...(rdp ? ["mp4"] : [])];
  if (d.recordings.length) section("recordings", recHeaders, recordingRows(d.recordings, rdp));
  else parts.push("\nrecordings: none");
  return parts.join("\n");
}
