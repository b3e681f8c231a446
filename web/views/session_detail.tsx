// One session: every field, its recordings, and the live view / replay / kill controls.
import type { RecordingRow, SessionRow } from "../../db/session_queries.ts";
import { duration, PostButton, Time } from "./parts.tsx";
import { SessionStatusBadge } from "./session_parts.tsx";
import { RdpRecording, type RdpRecordingView } from "./rdp_parts.tsx";
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
  hasCast: boolean;
  rdp: RdpRecordingView[];
  /** each recording's seal, verified (tamper evidence) */
  seals?: Map<number, RecordingVerdict | { error: string }>;
}

export function SessionDetail(p: DetailProps) {
  const s = p.s;
  const sid = encodeURIComponent(s.session_id);
  const secs = s.duration_seconds ?? (s.is_active ? (p.now.getTime() - s.started_at.getTime()) / 1000 : null);
  const meta = Object.keys(s.metadata ?? {}).length ? JSON.stringify(s.metadata) : null;
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
