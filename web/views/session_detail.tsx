// One session: every field, its recordings, and the live view / replay / kill controls.
import type { RecordingRow, SessionRow } from "../../db/session_queries.ts";
import { duration, PostButton, Time } from "./parts.tsx";
import { SessionStatusBadge } from "./session_parts.tsx";
import { RdpLive, RdpPlayer, RdpRecording, type RdpRecordingView, RdpTimeline } from "./rdp_parts.tsx";
import { rdpTimeline } from "../../recorder/rdp_timeline.ts";
import { SealStatus } from "./tamper_parts.tsx";
import type { RecordingVerdict } from "../../recorder/seal.ts";

function fmtBytes(n: number | null): string {
  if (n === null) return "—";
  return n < 1024
    ? `${n} B`
    : n < 1 << 20
    ? `${(n / 1024).toFixed(1)} KiB`
    : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export interface DetailProps {
  s: SessionRow;
  recordings: RecordingRow[];
  now: Date;
  canKill: boolean;
  csrf: string;
  live: boolean;
  replay: boolean;
  /** start the replay this many seconds in (a search hit) */
  startAt?: number;
  /** the RDP recording `startAt` belongs to (a search hit's); without it, every player starts there */
  startRecording?: number;
  hasCast: boolean;
  rdp: RdpRecordingView[];
  /** each recording's seal, verified (tamper evidence) */
  seals?: Map<number, RecordingVerdict | { error: string }>;
  /** the viewer may download kept files (permission "audit") */
  canDownloadFiles?: boolean;
}

export function SessionDetail(p: DetailProps) {
  const s = p.s;
  const sid = encodeURIComponent(s.session_id);
  const secs = s.duration_seconds ?? (s.is_active ? (p.now.getTime() - s.started_at.getTime()) / 1000 : null);
  const meta = Object.keys(s.metadata ?? {}).length ? JSON.stringify(s.metadata) : null;
  const timeline = p.rdp.length ? rdpTimeline(s.metadata ?? {}, p.recordings) : [];
  return (
    <>
      <h1>
        Session <span class="mono">{s.session_id}</span> <SessionStatusBadge s={s} />
      </h1>
      <div class="actions">
        {p.hasCast
          ? (
            <a class="button secondary" id="download-cast" href={`/sessions/${sid}/cast?download=1`}>
              Download asciicast
            </a>
          )
          : null}
        {s.is_active && p.canKill
          ? (
            <PostButton
              action={`/sessions/${sid}/kill`}
              csrf={p.csrf}
              label="Kill session"
              danger
              id="kill"
              confirm="End this session now?"
            />
          )
          : null}
      </div>
      {p.live
        ? (
          <div class="panel">
            <h2>Live view</h2>
            <p class="status-line">
              Status: <span id="live-status">connecting</span>
            </p>
            <div id="live-term" class="term" data-live-term data-src={`/sessions/${sid}/live`}></div>
          </div>
        )
        : null}
      {p.replay
        ? (
          <div class="panel">
            <h2>Replay</h2>
            <div
              id="player"
              data-player
              data-src={`/sessions/${sid}/cast`}
              data-start-at={p.startAt !== undefined ? String(p.startAt) : undefined}
            >
            </div>
          </div>
        )
        : null}
      {p.rdp.length
        ? (
          <div class="panel">
            {s.is_active
              ? (
                <>
                  <h2>Live view</h2>
                  <RdpLive sid={s.session_id} id={p.rdp[p.rdp.length - 1].id} />
                </>
              )
              : null}
            {s.is_active && p.rdp.length === 1 ? null : <h2>Replay</h2>}
            {(s.is_active ? p.rdp.slice(0, -1) : p.rdp).map((r) => (
              <>
                <RdpPlayer
                  key={r.id}
                  sid={s.session_id}
                  id={r.id}
                  startMs={p.startAt !== undefined && (p.startRecording ?? r.id) === r.id
                    ? Math.round(p.startAt * 1000)
                    : undefined}
                />
                <RdpTimeline recordingId={r.id} events={timeline.filter((e) => e.recordingId === r.id)} />
              </>
            ))}
            <h2>Video</h2>
            {p.rdp.map((r) => <RdpRecording key={r.id} sid={s.session_id} r={r} csrf={p.csrf} canConvert />)}
          </div>
        )
        : null}
      <div class="panel">
        <dl class="kv" id="session-fields">
          <dt>Protocol</dt>
          <dd>{s.protocol.toUpperCase()}</dd>
          <dt>User</dt>
          <dd>
            {s.user_id !== null
              ? <a href={`/users/${encodeURIComponent(s.user_name)}`}>{s.user_name}</a>
              : s.user_name}
          </dd>
          <dt>Server</dt>
          <dd>
            {s.server_id !== null
              ? <a href={`/servers/${encodeURIComponent(s.server_name)}`}>{s.server_name}</a>
              : s.server_name}
          </dd>
          <dt>Backend login</dt>
          <dd class="mono">{s.ssh_login ?? "—"}</dd>
          <dt>Subsystem</dt>
          <dd>{s.subsystem ?? "—"}</dd>
          <dt>Source address</dt>
          <dd class="mono">{s.source_ip}</dd>
          <dt>Proxy address</dt>
          <dd class="mono">{s.proxy_ip ?? "—"}</dd>
          <dt>Backend</dt>
          <dd class="mono">{s.backend_ip ? `${s.backend_ip}:${s.backend_port ?? ""}` : "—"}</dd>
          <dt>Agent forwarded</dt>
          <dd>{s.ssh_agent_used ? "yes" : "no"}</dd>
          <dt>Started (UTC)</dt>
          <dd>
            <Time at={s.started_at} />
          </dd>
          <dt>Ended (UTC)</dt>
          <dd>
            <Time at={s.ended_at} />
          </dd>
          <dt>Duration</dt>
          <dd>{duration(secs)}</dd>
          <dt>Termination</dt>
          <dd>{s.termination_reason ?? "—"}{s.termination_detail ? ` (${s.termination_detail})` : ""}</dd>
          <dt>Policy</dt>
          <dd>{s.policy_id !== null ? <a href={`/policies/${s.policy_id}`}>#{s.policy_id}</a> : "—"}</dd>
          <dt>Node</dt>
          <dd class="mono">{s.node_id}</dd>
          <dt>Recording size</dt>
          <dd>{fmtBytes(s.recording_size)}</dd>
          <dt>Metadata</dt>
          <dd class="mono wrap-any">{meta ?? "—"}</dd>
        </dl>
      </div>
      <Transfers s={s} canDownload={p.canDownloadFiles ?? false} />
      {p.recordings.length
        ? (
          <div class="panel">
            <h2>Recordings</h2>
            <table>
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Channel</th>
                  <th>Size</th>
                  <th>Started</th>
                  <th>Ended</th>
                  <th>Seal</th>
                </tr>
              </thead>
              <tbody>
                {p.recordings.map((r) => (
                  <tr>
                    <td>{r.kind}</td>
                    <td>{r.channel ?? "—"}</td>
                    <td>{fmtBytes(r.size)}</td>
                    <td>
                      <Time at={r.started_at} />
                    </td>
                    <td>
                      <Time at={r.ended_at} />
                    </td>
                    <td>
                      <SealStatus verdict={p.seals?.get(r.id)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
        : null}
    </>
  );
}

interface TransferView {
  protocol?: string;
  op?: string;
  path?: string;
  to?: string;
  bytes?: number;
  sha256?: string;
  incomplete?: boolean;
  kept?: boolean;
  not_kept?: string;
  cap_bytes?: number;
}

/** Files moved by scp/SFTP: name, size, the SHA-256 of the content, and the kept copy where there is one. */
function Transfers(p: { s: SessionRow; canDownload: boolean }) {
  const list = (p.s.metadata as { transfers?: unknown }).transfers;
  const rows = Array.isArray(list)
    ? list.filter((t): t is TransferView => typeof t === "object" && t !== null)
    : [];
  if (rows.length === 0) return null;
  const sid = encodeURIComponent(p.s.session_id);
  return (
    <div class="panel">
      <h2>Transfers</h2>
      <table id="transfers">
        <thead>
          <tr>
            <th>Protocol</th>
            <th>Operation</th>
            <th>Path</th>
            <th>Size</th>
            <th>SHA-256</th>
            <th>Content</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr>
              <td>{String(t.protocol ?? "—")}</td>
              <td>{String(t.op ?? "—")}</td>
              <td class="mono wrap-any">{String(t.path ?? "")}{t.to ? ` → ${String(t.to)}` : ""}</td>
              <td>
                {typeof t.bytes === "number" ? fmtBytes(t.bytes) : "—"}
                {t.incomplete ? " (incomplete)" : ""}
              </td>
              <td class="mono wrap-any">{typeof t.sha256 === "string" ? t.sha256 : "—"}</td>
              <td>
                {t.kept === true && typeof t.sha256 === "string"
                  ? (p.canDownload
                    ? (
                      <a class="kept-file" href={`/sessions/${sid}/files/${encodeURIComponent(t.sha256)}`}>
                        Download
                      </a>
                    )
                    : "kept")
                  : t.kept === false
                  ? (t.not_kept === "over_cap"
                    ? `not kept: over the cap${
                      typeof t.cap_bytes === "number" ? ` (${fmtBytes(t.cap_bytes)})` : ""
                    }`
                    : `not kept: ${String(t.not_kept ?? "?")}`)
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
