// An RDP recording on the session page: its MP4 (played in the browser), the conversion in progress
// (refreshed by htmx), or the button that asks for one.
import type { TimelineEvent } from "../../recorder/rdp_timeline.ts";
import type { ConversionRow } from "../../db/conversions.ts";
import { Csrf, duration } from "./parts.tsx";
import { ConversionControls } from "./conversion_parts.tsx";

export interface RdpRecordingView {
  id: number;
  size: number;
  job: ConversionRow | null;
  /** a current MP4 exists on this node */
  playable: boolean;
}

const ERRORS: Record<string, string> = {
  queue_full: "The conversion queue is full; try again when some jobs have finished.",
  no_file: "The recording file is missing on this node.",
  not_found: "No such recording.",
  not_rdp: "Only RDP recordings are converted.",
  finished: "That conversion has already ended.",
};

export function convertErrorText(code: string | undefined): string | null {
  return code ? ERRORS[code] ?? "The conversion could not be requested." : null;
}

export function RdpRecording(p: { sid: string; r: RdpRecordingView; csrf: string; canConvert: boolean }) {
  const base = `/sessions/${encodeURIComponent(p.sid)}/recordings/${p.r.id}`;
  const job = p.r.job;
  const live = job !== null && (job.state === "pending" || job.state === "running");
  const poll = live
    ? {
      "hx-get": `${base}/status`,
      "hx-trigger": "every 2s",
      "hx-swap": "outerHTML",
      "hx-headers": '{"X-JH-Poll": "1"}',
    }
    : {};
  return (
    <div
      class="rdp-recording"
      id={`rdp-recording-${p.r.id}`}
      data-state={p.r.playable ? "playable" : job?.state ?? "none"}
      {...poll}
    >
      {p.r.playable
        ? (
          <>
            <video
              controls
              preload="metadata"
              src={`${base}/video`}
              class="rdp-video"
              style="max-width: 100%"
            >
            </video>
            <p>
              <a href={`${base}/video?download=1`}>Download MP4</a>
              {job?.duration_ms ? <span class="muted">· {duration(job.duration_ms / 1000)}</span> : null}
            </p>
          </>
        )
        : null}
      {live
        ? (
          <>
            <p class="status-line">
              Conversion {job!.state}
              {job!.state === "running" ? `: ${Math.floor(job!.progress)}%` : ""}
              {job!.eta_seconds !== null ? ` · about ${duration(job!.eta_seconds)} left` : ""}
              {job!.rush ? " · urgent" : ""}
            </p>
            <ConversionControls
              job={job!}
              csrf={p.csrf}
              back={`/sessions/${encodeURIComponent(p.sid)}`}
              bare
            />
          </>
        )
        : null}
      {job && (job.state === "failed" || job.state === "quarantined")
        ? <p class="error-text">Conversion {job.state}: {job.error ?? "no detail"}</p>
        : null}
      {!p.r.playable && !live && p.canConvert
        ? (
          <form method="post" action={`${base}/convert`} class="actions">
            <Csrf token={p.csrf} />
            <label>
              <input type="checkbox" name="rush" value="on" /> urgent
            </label>
            <button type="submit" class="secondary" id={`convert-${p.r.id}`}>Convert to MP4</button>
          </form>
        )
        : null}
      <p>
        <a href={`/recordings/${p.r.id}/raw`} id={`download-raw-${p.r.id}`}>Download the raw recording</a>
      </p>
    </div>
  );
}

/**
 * The in-browser player of one RDP recording (web/player/rdp_player.ts, served as rdp_player.js): drawn
 * from the recording itself, no conversion needed. Outside the polled conversion part, so htmx never
 * replaces it.
 */
export function RdpPlayer(p: { sid: string; id: number; startMs?: number }) {
  const base = `/sessions/${encodeURIComponent(p.sid)}/recordings/${p.id}`;
  return (
    <div
      class="rdp-player"
      id={`rdp-player-${p.id}`}
      data-base={base}
      data-state="loading"
      data-start-ms={p.startMs !== undefined ? String(p.startMs) : undefined}
    >
      <canvas class="rdp-canvas" aria-label="The recorded desktop"></canvas>
      <div class="rdp-player-controls actions">
        <button type="button" data-act="play">Play</button>
        <input type="range" data-act="seek" min="0" max="0" step="1" value="0" aria-label="Position" />
        <span data-time>0:00</span>
        <label>
          Speed{" "}
          <select data-act="speed">
            {[1, 2, 4, 8, 16].map((n) => <option key={n} value={String(n)}>{n}×</option>)}
          </select>
        </label>
        <label>
          <input type="checkbox" data-act="idle" checked /> skip idle
        </label>
      </div>
      <p class="status-line" data-status role="status"></p>
    </div>
  );
}

/** The live view of an active RDP session's recording (web/player/rdp_live.ts), read-only. */
export function RdpLive(p: { sid: string; id: number }) {
  const src = `/sessions/${encodeURIComponent(p.sid)}/recordings/${p.id}/live`;
  return (
    <div class="rdp-player rdp-live" id={`rdp-live-${p.id}`} data-src={src} data-state="connecting">
      <canvas class="rdp-canvas" aria-label="The session's desktop, live"></canvas>
      <p class="status-line" data-status role="status">Connecting…</p>
    </div>
  );
}

const TIMELINE_LABELS = { logon: "Logon", typed: "Typed", clipboard: "Clipboard", file: "File" } as const;

/**
 * The recording's moments beside its player (recorder/rdp_timeline.ts): each a button that seeks the player
 * there (web/player/rdp_player.ts wires them by data-seek-rec).
 */
export function RdpTimeline(p: { recordingId: number; events: TimelineEvent[] }) {
  if (!p.events.length) return null;
  return (
    <details class="rdp-timeline" open>
      <summary>Timeline ({p.events.length})</summary>
      <ol>
        {p.events.map((e) => (
          <li>
            <button
              type="button"
              class="link"
              data-seek-rec={String(p.recordingId)}
              data-seek-ms={String(e.ms)}
            >
              <span class="muted">{clockOf(e.ms)}</span> <b>{TIMELINE_LABELS[e.kind]}</b>{" "}
              <code>{e.text}</code>
            </button>
          </li>
        ))}
      </ol>
    </details>
  );
}

function clockOf(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
    : `${Math.floor(s / 60)}:${two(s % 60)}`;
}
