// Audit list pieces: the filter bar and the table.
import type { AuditRow } from "../../db/audit.ts";
import { AUDIT_ACTIONS } from "../../db/audit_events.ts";
import { Badge, Empty, Time } from "./parts.tsx";

function Err(p: { e?: string }) {
  return p.e ? <span class="error-text">{p.e}</span> : null;
}

export function AuditFilters(
  p: { values: Record<string, string>; errors: Record<string, string>; prefixes: string[] },
) {
  const v = p.values, e = p.errors;
  const input = (name: string, label: string, size = 14) => (
    <label>
      {label}
      <input name={name} value={v[name] ?? ""} size={size} aria-invalid={e[name] ? true : undefined} />
      <Err e={e[name]} />
    </label>
  );
  return (
    <form class="filters" method="get" action="/audit" id="audit-filters">
      {input("actor", "Actor")}
      {input("user", "User (any role)")}
      <label>
        Action
        <select name="action">
          <option value="">any</option>
          <optgroup label="All of a kind">
            {p.prefixes.map((x) => <option key={x} value={x} selected={v.action === x}>{x}*</option>)}
          </optgroup>
          <optgroup label="Exact">
            {AUDIT_ACTIONS.map((x) => <option key={x} value={x} selected={v.action === x}>{x}</option>)}
          </optgroup>
        </select>
        <Err e={e.action} />
      </label>
      <label>
        Result
        <select name="success">
          <option value="">any</option>
          <option value="yes" selected={v.success === "yes"}>success</option>
          <option value="no" selected={v.success === "no"}>failure</option>
        </select>
        <Err e={e.success} />
      </label>
      {input("ip", "Source IP/CIDR")}
      {input("from", "From (UTC)")}
      {input("to", "To (UTC)")}
      <button type="submit">Filter</button>
      <a href="/audit" class="button secondary">Reset</a>
    </form>
  );
}

export function AuditTable(p: { rows: AuditRow[] }) {
  return (
    <table id="audit-table">
      <thead>
        <tr>
          <th>Time (UTC)</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Target</th>
          <th>Source</th>
          <th>Result</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.length === 0 ? <Empty cols={7}>No audit records match.</Empty> : null}
        {p.rows.map((a) => (
          <tr data-audit-id={a.id}>
            <td class="nowrap">
              <Time at={a.at} />
            </td>
            <td>{a.actor}</td>
            <td class="mono">{a.action}</td>
            <td>{a.target ?? ""}</td>
            <td class="mono">{a.source_ip ?? ""}</td>
            <td>{a.success ? <Badge kind="ok">ok</Badge> : <Badge kind="bad">failed</Badge>}</td>
            <td class="mono wrap-any">
              {Object.keys(a.details ?? {}).length ? JSON.stringify(a.details) : ""}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
