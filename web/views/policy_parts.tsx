// Policy rows shared by the policies list and user/server pages.
import type { PolicyRow } from "../../db/policies.ts";
import { Badge, Empty, Time } from "./parts.tsx";

export function PolicyStatus(p: { status: PolicyRow["status"] }) {
  const kind = p.status === "active"
    ? "ok"
    : p.status === "revoked"
    ? "bad"
    : p.status === "pending"
    ? "warn"
    : undefined;
  return <Badge kind={kind}>{p.status}</Badge>;
}

export function subjectText(r: PolicyRow): string {
  return r.subject_kind === "user" ? r.subject : `@${r.subject}`;
}

export function scopeText(r: PolicyRow): string {
  return r.scope_kind === "server" ? r.scope : `group ${r.scope}`;
}

export function PolicyTable(p: { rows: PolicyRow[]; id?: string }) {
  return (
    <table id={p.id}>
      <thead>
        <tr>
          <th>#</th>
          <th>Subject</th>
          <th>Scope</th>
          <th>Protocols</th>
          <th>Logins</th>
          <th>Forwarding</th>
          <th>Valid from (UTC)</th>
          <th>Valid until (UTC)</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.length === 0 ? <Empty cols={9}>No policies.</Empty> : null}
        {p.rows.map((r) => (
          <tr key={r.id} data-policy={r.id}>
            <td>
              <a href={`/policies/${r.id}`}>#{r.id}</a>
            </td>
            <td>
              {r.subject_kind === "user"
                ? <a href={`/users/${encodeURIComponent(r.subject)}`}>{r.subject}</a>
                : <a href={`/groups/user/${encodeURIComponent(r.subject)}`}>@{r.subject}</a>}
            </td>
            <td>
              {r.scope_kind === "server"
                ? <a href={`/servers/${encodeURIComponent(r.scope)}`}>{r.scope}</a>
                : <a href={`/groups/server/${encodeURIComponent(r.scope)}`}>group {r.scope}</a>}
            </td>
            <td>{r.protocols.join(", ")}</td>
            <td class="mono">{r.logins.length ? r.logins.join(", ") : <span class="muted">any</span>}</td>
            <td>{r.port_forwarding ? "yes" : "no"}</td>
            <td>
              <Time at={r.valid_from} />
            </td>
            <td>
              <Time at={r.valid_until} />
            </td>
            <td>
              <PolicyStatus status={r.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
