// Small pieces shared by pages and htmx fragments.
import type { ComponentChildren } from "preact";
import { CSRF_FIELD } from "../csrf.ts";

/** A form's state: what was typed and the error per field, so a rejected form comes back filled in. */
export interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
}

export const emptyForm = (values: Record<string, string> = {}): FormState => ({ values, errors: {} });

export function Csrf(p: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={p.token} />;
}

interface FieldProps {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  hint?: string;
  required?: boolean;
  placeholder?: string;
  textarea?: boolean;
  options?: { value: string; label: string }[];
  autocomplete?: string;
}

export function Field(p: FieldProps) {
  const err = p.form.errors[p.name];
  const value = p.form.values[p.name] ?? "";
  const id = `f-${p.name}`;
  const common = {
    id,
    name: p.name,
    required: p.required,
    "aria-invalid": err ? true : undefined,
    "aria-describedby": err ? `${id}-err` : undefined,
  };
  let input;
  if (p.options) {
    input = (
      <select {...common}>
        {p.options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === value}>{o.label}</option>
        ))}
      </select>
    );
  } else if (p.textarea) {
    input = <textarea {...common} placeholder={p.placeholder}>{value}</textarea>;
  } else {
    input = (
      <input
        {...common}
        type={p.type ?? "text"}
        value={value}
        placeholder={p.placeholder}
        autocomplete={p.autocomplete}
      />
    );
  }
  return (
    <div class={err ? "field invalid" : "field"}>
      <label for={id}>{p.label}</label>
      {input}
      {p.hint ? <span class="hint">{p.hint}</span> : null}
      {err ? <span class="error" id={`${id}-err`}>{err}</span> : null}
    </div>
  );
}

export function Checkbox(p: { form: FormState; name: string; label: string; hint?: string }) {
  const on = ["on", "true", "1", "yes"].includes(p.form.values[p.name] ?? "");
  return (
    <div class="field">
      <label>
        <input type="checkbox" id={`f-${p.name}`} name={p.name} value="on" checked={on} /> {p.label}
      </label>
      {p.hint ? <span class="hint">{p.hint}</span> : null}
      {p.form.errors[p.name] ? <span class="error">{p.form.errors[p.name]}</span> : null}
    </div>
  );
}

export function FormError(p: { form: FormState }) {
  const e = p.form.errors["_form"];
  return e ? <div class="flash error" role="alert">{e}</div> : null;
}

export function Flash(p: { kind?: "ok" | "error" | "info"; children: ComponentChildren }) {
  return <div class={`flash ${p.kind ?? ""}`} role="status">{p.children}</div>;
}

/** ISO-8601 in UTC, second precision: the console shows every time in UTC. */
export function utc(d: Date | string | null | undefined): string {
  if (d === null || d === undefined) return "—";
  const x = d instanceof Date ? d : new Date(d);
  return Number.isNaN(x.getTime()) ? "—" : x.toISOString().slice(0, 19).replace("T", " ");
}

export function Time(p: { at: Date | string | null | undefined }) {
  if (p.at === null || p.at === undefined) return <span class="muted">—</span>;
  const d = p.at instanceof Date ? p.at : new Date(p.at);
  return <time datetime={d.toISOString()}>{utc(d)}</time>;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export function Badge(p: { kind?: "ok" | "bad" | "warn"; children: ComponentChildren }) {
  return <span class={p.kind ? `badge ${p.kind}` : "badge"}>{p.children}</span>;
}

/** A POST button in its own small form (with the CSRF token), optionally confirmed first. */
export function PostButton(
  p: { action: string; csrf: string; label: string; confirm?: string; danger?: boolean; id?: string },
) {
  return (
    <form method="post" action={p.action} data-confirm={p.confirm}>
      <Csrf token={p.csrf} />
      <button type="submit" class={p.danger ? "danger" : undefined} id={p.id}>{p.label}</button>
    </form>
  );
}

export function Empty(p: { cols: number; children?: ComponentChildren }) {
  return (
    <tr>
      <td colSpan={p.cols} class="muted">{p.children ?? "Nothing here yet."}</td>
    </tr>
  );
}
