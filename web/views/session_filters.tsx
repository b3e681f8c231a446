// The filter bar of the sessions list; keeps typed values and shows errors beside each field.
import { SESSION_STATUSES } from "../../db/session_queries.ts";

function F(
  p: {
    name: string;
    label: string;
    values: Record<string, string>;
    errors: Record<string, string>;
    type?: string;
    size?: number;
  },
) {
  const err = p.errors[p.name];
  return (
    <label class={err ? "invalid" : undefined}>
      {p.label}
      <input
        name={p.name}
        type={p.type ?? "text"}
        value={p.values[p.name] ?? ""}
        size={p.size}
        aria-invalid={err ? true : undefined}
      />
      {err ? <span class="error-text">{err}</span> : null}
    </label>
  );
}

function S(
  p: {
    name: string;
    label: string;
    values: Record<string, string>;
    errors: Record<string, string>;
    options: readonly string[];
  },
) {
  const v = p.values[p.name] ?? "";
  const err = p.errors[p.name];
  return (
    <label>
      {p.label}
      <select name={p.name}>
        <option value="">any</option>
        {p.options.map((o) => <option key={o} value={o} selected={o === v}>{o}</option>)}
      </select>
      {err ? <span class="error-text">{err}</span> : null}
    </label>
  );
}

export function SessionFilters(p: { values: Record<string, string>; errors: Record<string, string> }) {
  return (
    <form class="filters" method="get" action="/sessions" id="session-filters">
      <S name="protocol" label="Protocol" options={["ssh", "rdp"]} values={p.values} errors={p.errors} />
      <S name="status" label="Status" options={SESSION_STATUSES} values={p.values} errors={p.errors} />
      <F name="user" label="User" values={p.values} errors={p.errors} size={12} />
      <F name="server" label="Server" values={p.values} errors={p.errors} size={12} />
      <F name="from" label="From (UTC)" values={p.values} errors={p.errors} size={16} />
      <F name="to" label="To (UTC)" values={p.values} errors={p.errors} size={16} />
      <F name="q" label="Text" values={p.values} errors={p.errors} size={16} />
      <button type="submit">Filter</button>
      <a href="/sessions" class="button secondary">Reset</a>
    </form>
  );
}
