// The Requests pages: the pending queue (its own htmx-polled fragment), recent decisions, and one request with
// its approve and deny forms.
import type { AccessRequestRow } from "../../db/access_requests.ts";
import { Csrf, Empty, Field, Flash, FormError, type FormState, Time } from "./parts.tsx";

function State(p: { r: AccessRequestRow }) {
  const kind = { approved: "ok", denied: "bad", pending: "warn", expired: undefined, cancelled: undefined }[
    p.r.state
  ];
  return <span class={kind ? `badge ${kind}` : "badge"}>{p.r.state}</span>;
}

/** The pending queue; refreshes itself every 5 s (htmx swaps the whole table). */
export function RequestQueue(p: { pending: AccessRequestRow[] }) {
  return (
    <table id="requests-queue" hx-get="/requests/queue" hx-trigger="every 5s" hx-swap="outerHTML">
      <thead>
        <tr>
          <th>Id</th>
          <th>User</th>
          <th>Server</th>
          <th>Logins</th>
          <th>Minutes</th>
          <th>Reason</th>
          <th>Approvals</th>
          <th>Expires (UTC)</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {p.pending.length === 0 ? <Empty cols={9}>No pending requests.</Empty> : null}
        {p.pending.map((r) => (
          <tr data-request={r.id}>
            <td>{r.id}</td>
            <td>{r.user_name}</td>
            <td>
              {r.server_name}
              {r.server_id === null ? <span class="badge bad">no such server</span> : null}
            </td>
            <td>{r.logins.join(", ")}</td>
            <td>{r.minutes}</td>
            <td>{r.reason}</td>
            <td>{r.approvals.length} of {r.approvals_needed}</td>
            <td>
              <Time at={r.expires_at} />
            </td>
            <td>
              <a href={`/requests/${r.id}`} id={`decide-${r.id}`}>Decide</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RequestsPage(p: { pending: AccessRequestRow[]; recent: AccessRequestRow[]; flash?: string }) {
  return (
    <>
      <h1>Access requests</h1>
      <p>
        Users ask for access at the SSH prompt or with <code>ssh jump request …</code>{" "}
        (README, "Requesting access"). An approved request becomes a time-bounded policy.
      </p>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <h2>Pending</h2>
      <RequestQueue pending={p.pending} />
      <h2>Recently decided</h2>
      <table id="requests-recent">
        <thead>
          <tr>
            <th>Id</th>
            <th>State</th>
            <th>User</th>
            <th>Server</th>
            <th>Granted</th>
            <th>Decided (UTC)</th>
            <th>By</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {p.recent.length === 0 ? <Empty cols={8} /> : null}
          {p.recent.map((r) => (
            <tr>
              <td>
                <a href={`/requests/${r.id}`}>{r.id}</a>
              </td>
              <td>
                <State r={r} />
              </td>
              <td>{r.user_name}</td>
              <td>{r.server_name}</td>
              <td>
                {r.state === "approved" ? `${r.granted_minutes} min as ${r.granted_logins?.join(", ")}` : ""}
              </td>
              <td>
                <Time at={r.decided_at} />
              </td>
              <td>{r.decided_by}</td>
              <td>{r.decision_note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function RequestDetail(
  p: {
    r: AccessRequestRow;
    csrf: string;
    form: FormState;
    /** null: this console user may decide; otherwise why not */
    mayDecide: string | null;
    /** the most an approval may give */
    maxMinutes: number;
  },
) {
  const r = p.r;
  return (
    <>
      <h1>
        Request {r.id} <State r={r} />
      </h1>
      <FormError form={p.form} />
      <dl class="facts" id="request-facts">
        <dt>User</dt>
        <dd>{r.user_name}{r.source_ip ? ` from ${r.source_ip}` : ""} (via {r.via})</dd>
        <dt>Server</dt>
        <dd>
          {r.server_name} over {r.protocol}
          {r.server_id === null ? " — no server has this name: it cannot be approved" : ""}
        </dd>
        <dt>Logins</dt>
        <dd>{r.logins.join(", ")}</dd>
        <dt>Minutes</dt>
        <dd>{r.minutes} asked; the group allows at most {r.max_minutes}</dd>
        <dt>Reason</dt>
        <dd>{r.reason}</dd>
        <dt>Approvals</dt>
        <dd>
          {r.approvals.length} of {r.approvals_needed}
          {r.approvers.length ? ` (named approvers: ${r.approvers.join(", ")})` : ""}
        </dd>
        <dt>Asked</dt>
        <dd>
          <Time at={r.created_at} />, {r.state === "pending" ? "expires" : "was due"}{" "}
          <Time at={r.expires_at} />
        </dd>
        {r.decided_at
          ? (
            <>
              <dt>Decided</dt>
              <dd>
                <Time at={r.decided_at} /> by {r.decided_by}
                {r.decision_note ? ` — ${r.decision_note}` : ""}
              </dd>
            </>
          )
          : null}
        {r.policy_id !== null
          ? (
            <>
              <dt>Policy</dt>
              <dd>
                <a href={`/policies/${r.policy_id}`}>{r.policy_id}</a>: {r.granted_minutes} min as{" "}
                {r.granted_logins?.join(", ")}
              </dd>
            </>
          )
          : null}
      </dl>
      {r.approvals.length
        ? (
          <ul id="request-approvals">
            {r.approvals.map((a) => (
              <li>
                {a.approver}: {a.minutes} min as {a.logins.join(", ")}
                {a.note ? ` — ${a.note}` : ""} (<Time at={a.at} />)
              </li>
            ))}
          </ul>
        )
        : null}
      {r.state !== "pending"
        ? null
        : p.mayDecide !== null
        ? <Flash kind="info">{p.mayDecide}</Flash>
        : (
          <div class="panel">
            <h2>Approve</h2>
            <form method="post" action={`/requests/${r.id}/approve`} id="approve-form">
              <Csrf token={p.csrf} />
              <Field
                form={p.form}
                name="minutes"
                label={`Minutes (at most ${p.maxMinutes}; empty = ${p.maxMinutes})`}
                type="number"
              />
              <Field
                form={p.form}
                name="logins"
                label={`Logins (comma-separated, of ${r.logins.join(", ")}; empty = all)`}
              />
              <Field form={p.form} name="note" label="Note (optional)" />
              <button type="submit" id="approve">Approve</button>
            </form>
            <h2>Deny</h2>
            <form method="post" action={`/requests/${r.id}/deny`} id="deny-form">
              <Csrf token={p.csrf} />
              <Field form={p.form} name="reason" label="Reason (shown to the user)" required />
              <button type="submit" class="danger" id="deny">Deny</button>
            </form>
          </div>
        )}
    </>
  );
}
