// Session rows and status badges, shared by the dashboard, the sessions list and user/server pages.
import type { SessionRow } from "../../db/session_queries.ts";
import { Badge, duration, Empty, Time } from "./parts.tsx";

export function SessionStatusBadge(p: { s: SessionRow }) {
  if (p.s.is_active) return <Badge kind="ok">active</Badge>;
  const r = p.s.termination_reason ?? "ended";
  return <Badge kind={r === "normal" ? undefined : r === "error" ? "bad" : "warn"}>{r}</Badge>;
}

export function SessionRowView(p: { s: SessionRow; now: Date }) {
  const s = p.s;
  const secs = s.duration_seconds ??
    (s.is_active ? Math.max(0, (p.now.getTime() - s.started_at.getTime()) / 1000) : null);
  return (
    <tr data-session={s.session_id}>
      <td>
        <a href={`/sessions/${encodeURIComponent(s.session_id)}`} class="mono">{s.session_id.slice(0, 12)}</a>
      </td>
      <td>{s.protocol.toUpperCase()}</td>
      <td>{s.user_name}</td>
      <td>{s.server_name}</td>
      <td class="mono">{s.ssh_login ?? ""}</td>
      <td class="mono">{s.source_ip}</td>
      <td>
        <Time at={s.started_at} />
      </td>
      <td>{duration(secs)}</td>
      <td>
        <SessionStatusBadge s={s} />
      </td>
    </tr>
  );
}

export function SessionTable(p: { rows: SessionRow[]; now: Date; id?: string; empty?: string }) {
  return (
    <table id={p.id}>
      <thead>
        <tr>
          <th>Session</th>
          <th>Proto</th>
          <th>User</th>
          <th>Server</th>
          <th>Login</th>
          <th>Source</th>
          <th>Started (UTC)</th>
          <th>Duration</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.length === 0 ? <Empty cols={9}>{p.empty ?? "No sessions."}</Empty> : null}
        {p.rows.map((s) => <SessionRowView key={s.id} s={s} now={p.now} />)}
      </tbody>
    </table>
  );
}
