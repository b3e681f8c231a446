// Conversion jobs in the console: the progress bar with Rush/Cancel controls (inside an RDP recording's
// panel) and the queue table of /recordings/queue. Forms post and come back to `back` (no script needed); the
// surrounding fragment is refreshed by htmx polling.
import type { QueueRow } from "../../db/conversions.ts";
import { Badge, Csrf, duration, Empty, Time } from "./parts.tsx";

interface JobLike {
  id: number;
  state: string;
  rush: boolean;
  progress: number;
  eta_seconds: number | null;
}

const live = (j: JobLike) => j.state === "pending" || j.state === "running";

function JobButton(p: { job: number; action: "rush" | "cancel"; csrf: string; back: string }) {
  return (
    <form method="post" action={`/recordings/jobs/${p.job}/${p.action}`} style="display: inline">
      <Csrf token={p.csrf} />
      <input type="hidden" name="back" value={p.back} />
      <button
        type="submit"
        class={p.action === "cancel" ? "danger" : "secondary"}
        id={`${p.action}-job-${p.job}`}
      >
        {p.action === "cancel" ? "Cancel" : "Rush"}
      </button>
    </form>
  );
}

/**
 * Progress bar with ETA, then Rush (pending, not yet rushed) and Cancel; nothing once the job ended.
 * `bare` leaves the percentage and ETA text out (for places that already say it).
 */
export function ConversionControls(p: { job: JobLike; csrf: string; back: string; bare?: boolean }) {
  const j = p.job;
  if (!live(j)) return null;
  const pct = Math.floor(j.progress);
  return (
    <div class="conversion-controls" data-job={j.id}>
      <progress
        max={100}
        value={j.state === "running" ? j.progress : undefined}
        aria-label="conversion progress"
      >
        {pct}%
      </progress>
      {p.bare ? null : (
        <span class="muted">
          {j.state === "running" ? ` ${pct}%` : " waiting"}
          {j.state === "running" && j.eta_seconds !== null ? ` · ETA ${duration(j.eta_seconds)}` : ""}
        </span>
      )}
      {j.state === "pending" && !j.rush
        ? <JobButton job={j.id} action="rush" csrf={p.csrf} back={p.back} />
        : null}
      <JobButton job={j.id} action="cancel" csrf={p.csrf} back={p.back} />
    </div>
  );
}

const STATE_KIND: Record<string, "ok" | "bad" | "warn" | undefined> = {
  done: "ok",
  running: "ok",
  failed: "bad",
  quarantined: "bad",
  cancelled: "warn",
};

/** The queue (/recordings/queue): running and pending jobs in run order, then recently finished ones; refreshed every 2 s. */
export function QueueTable(p: { rows: QueueRow[]; csrf: string; poolsAlive: number }) {
  return (
    <div
      id="conversion-queue"
      hx-get="/recordings/queue"
      hx-trigger="every 2s"
      hx-swap="outerHTML"
      hx-select="#conversion-queue"
      hx-headers='{"X-JH-Poll": "1"}'
    >
      {p.poolsAlive === 0 && p.rows.some((r) => r.state === "pending")
        ? (
          <p class="error-text">
            No conversion pool is running: pending jobs wait until `jumphost serve` runs.
          </p>
        )
        : null}
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>State</th>
            <th>Session</th>
            <th>Requested</th>
            <th>By</th>
            <th>Tries</th>
            <th>Node</th>
            <th>Progress</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.length === 0 ? <Empty cols={8}>No conversions.</Empty> : null}
          {p.rows.map((r) => (
            <tr data-job={r.id}>
              <td>{r.id}{r.position !== null ? <span class="muted">(#{r.position})</span> : null}</td>
              <td>
                <Badge kind={STATE_KIND[r.state]}>{r.state}</Badge>
                {r.rush
                  ? (
                    <>
                      <Badge kind="warn">rush</Badge>
                    </>
                  )
                  : null}
              </td>
              <td>
                <a href={`/sessions/${encodeURIComponent(r.session_id)}`} class="mono">
                  {r.session_id.slice(0, 12)}
                </a>
              </td>
              <td>
                <Time at={r.requested_at} />
              </td>
              <td>{r.requested_by}</td>
              <td>{r.attempts}/{r.max_attempts}</td>
              <td class="mono">{r.worker_node ?? "—"}</td>
              <td>
                {live(r)
                  ? <ConversionControls job={r} csrf={p.csrf} back="/recordings/queue" />
                  : r.error
                  ? <span class="error-text">{r.error}</span>
                  : r.state === "done"
                  ? "100%"
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
