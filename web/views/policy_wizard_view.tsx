// The policy wizard: one step visible, the answers of the other steps carried as hidden fields.
import {
  ALL_FIELDS,
  type Answers,
  type Choices,
  splitLogins,
  splitSchedules,
  STEP_FIELDS,
  STEPS,
} from "../policy_wizard.ts";
import { Checkbox, Csrf, Field, FormError, type FormState } from "./parts.tsx";
import { utc } from "./parts.tsx";

const opts = (
  names: string[],
) => [{ value: "", label: "— choose —" }, ...names.map((n) => ({ value: n, label: n }))];

function StepBody(p: { step: number; form: FormState; ch: Choices; now: Date }) {
  const v = p.form.values;
  switch (p.step) {
    case 0:
      return (
        <>
          <Field
            form={p.form}
            name="subject_kind"
            label="Who gets access"
            options={[{ value: "user", label: "A user" }, { value: "user_group", label: "A user group" }]}
          />
          <Field
            form={p.form}
            name="subject"
            label={v.subject_kind === "user_group" ? "User group" : "User"}
            options={opts(v.subject_kind === "user_group" ? p.ch.userGroups : p.ch.users)}
            hint="Change the kind above and press Next to see the other list."
          />
        </>
      );
    case 1: {
      const servers = v.scope_kind === "server_group" ? p.ch.serverGroups : p.ch.servers.map((s) => s.name);
      return (
        <>
          <Field
            form={p.form}
            name="scope_kind"
            label="To what"
            options={[
              { value: "server_group", label: "A server group" },
              { value: "server", label: "A server (all its protocols)" },
              { value: "server_protocol", label: "One protocol of a server" },
            ]}
          />
          <Field
            form={p.form}
            name="scope"
            label={v.scope_kind === "server_group" ? "Server group" : "Server"}
            options={opts(servers)}
          />
          <Field
            form={p.form}
            name="protocol"
            label="Protocol (for one protocol of a server)"
            options={[{ value: "", label: "—" }, { value: "ssh", label: "SSH" }, {
              value: "rdp",
              label: "RDP",
            }]}
          />
        </>
      );
    }
    case 2:
      return (
        <>
          <Field
            form={p.form}
            name="logins"
            label="Allowed backend logins"
            placeholder="root, deploy"
            hint="Separated by commas or spaces; empty allows any login."
          />
          <Checkbox form={p.form} name="port_forwarding" label="Allow SSH port forwarding" />
        </>
      );
    case 3:
      return (
        <>
          <p class="muted">
            Now: <span id="utc-now">{utc(p.now)}</span> UTC. All times are UTC.
          </p>
          <Field
            form={p.form}
            name="validity_mode"
            label="Validity"
            options={[{ value: "duration", label: "For a number of minutes from now" }, {
              value: "range",
              label: "From / until",
            }]}
          />
          <Field form={p.form} name="duration_minutes" label="Duration (minutes)" type="number" />
          <Field
            form={p.form}
            name="valid_from"
            label="Valid from (UTC)"
            placeholder="YYYY-MM-DDTHH:MM, empty = now"
          />
          <Field form={p.form} name="valid_until" label="Valid until (UTC)" placeholder="YYYY-MM-DDTHH:MM" />
          <Field
            form={p.form}
            name="schedules"
            label="Weekly windows (optional, one per line; none = any time)"
            placeholder="Mon-Fri 08:00-18:00 Europe/Berlin"
            textarea
          />
        </>
      );
    default:
      return <Review a={v} />;
  }
}

function Review(p: { a: Answers }) {
  const a = p.a;
  const logins = splitLogins(a.logins);
  return (
    <dl class="kv" id="policy-review">
      <dt>Subject</dt>
      <dd>{a.subject_kind === "user_group" ? `user group ${a.subject}` : `user ${a.subject}`}</dd>
      <dt>Scope</dt>
      <dd>
        {a.scope_kind === "server_group"
          ? `server group ${a.scope}`
          : a.scope_kind === "server"
          ? `server ${a.scope} (all protocols)`
          : `${(a.protocol ?? "").toUpperCase()} on server ${a.scope}`}
      </dd>
      <dt>Logins</dt>
      <dd>{logins.length ? logins.join(", ") : "any"}</dd>
      <dt>Port forwarding</dt>
      <dd>{a.port_forwarding === "on" ? "allowed" : "not allowed"}</dd>
      <dt>Validity</dt>
      <dd>
        {a.validity_mode === "duration"
          ? `${a.duration_minutes} minutes from creation`
          : `${a.valid_from || "now"} → ${a.valid_until} (UTC)`}
      </dd>
      <dt>Weekly windows</dt>
      <dd id="review-schedules">{splitSchedules(a.schedules).join("; ") || "any time"}</dd>
    </dl>
  );
}

export function PolicyWizard(p: { step: number; form: FormState; ch: Choices; csrf: string; now: Date }) {
  const shown = new Set(STEP_FIELDS[p.step]);
  const last = p.step === STEPS.length - 1;
  return (
    <>
      <h1>New policy</h1>
      <ol class="steps" id="wizard-steps">
        {STEPS.map((s, i) => (
          <li key={s} class={i === p.step ? "current" : i < p.step ? "done" : undefined}>{i + 1}. {s}</li>
        ))}
      </ol>
      <FormError form={p.form} />
      <form method="post" action="/policies/new" class="panel" id="policy-wizard">
        <Csrf token={p.csrf} />
        <input type="hidden" name="step" value={String(p.step)} />
        {ALL_FIELDS.filter((f) => !shown.has(f) && p.form.values[f] !== undefined).map((f) => (
          <input key={f} type="hidden" name={f} value={p.form.values[f]} />
        ))}
        <StepBody step={p.step} form={p.form} ch={p.ch} now={p.now} />
        <div class="actions">
          {p.step > 0
            ? <button type="submit" name="go" value="back" class="secondary" formnovalidate>Back</button>
            : null}
          {last
            ? <button type="submit" name="go" value="create" id="wizard-create">Create policy</button>
            : <button type="submit" name="go" value="next" id="wizard-next">Next</button>}
          <a class="button secondary" href="/policies">Cancel</a>
        </div>
      </form>
    </>
  );
}
