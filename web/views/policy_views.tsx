// Policies: list with filters, detail with revoke and delete.
import type { PolicyRow } from "../../db/policies.ts";
import { Csrf, Flash, PostButton, Time } from "./parts.tsx";
import { PolicyStatus, PolicyTable, scopeText, subjectText } from "./policy_parts.tsx";

export function PolicyList(
  p: { rows: PolicyRow[]; values: Record<string, string>; errors: Record<string, string>; flash?: string },
) {
  const status = p.values.status ?? "all";
  return (
    <>
      <h1>Policies</h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <form class="filters" method="get" action="/policies" id="policy-filters">
        <label>
          Status
          <select name="status">
            {["all", "active", "pending", "expired", "revoked"].map((s) => (
              <option key={s} value={s} selected={s === status}>{s}</option>
            ))}
          </select>
          {p.errors.status ? <span class="error-text">{p.errors.status}</span> : null}
        </label>
        <label>
          User
          <input name="user" value={p.values.user ?? ""} size={12} />
        </label>
        <label>
          Server
          <input name="server" value={p.values.server ?? ""} size={12} />
        </label>
        <button type="submit">Filter</button>
        <a class="button" href="/policies/new" id="new-policy">New policy</a>
        <a class="button secondary" href="/access" id="explain-access">Explain access…</a>
      </form>
      <PolicyTable rows={p.rows} id="policies-table" />
    </>
  );
}

export function PolicyDetail(p: { p: PolicyRow; csrf: string; error?: string; flash?: string }) {
  const r = p.p;
  return (
    <>
      <h1>
        Policy #{r.id} <PolicyStatus status={r.status} />
      </h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      {p.error ? <Flash kind="error">{p.error}</Flash> : null}
      <div class="panel">
        <dl class="kv" id="policy-fields">
          <dt>Subject</dt>
          <dd>{subjectText(r)}</dd>
          <dt>Scope</dt>
          <dd>{scopeText(r)}</dd>
          <dt>Protocols</dt>
          <dd>{r.protocols.join(", ")}</dd>
          <dt>Logins</dt>
          <dd class="mono">{r.logins.length ? r.logins.join(", ") : "any"}</dd>
          <dt>Port forwarding</dt>
          <dd>{r.port_forwarding ? "allowed" : "not allowed"}</dd>
          <dt>Valid from (UTC)</dt>
          <dd>
            <Time at={r.valid_from} />
          </dd>
          <dt>Valid until (UTC)</dt>
          <dd>
            <Time at={r.valid_until} />
          </dd>
          <dt>Weekly windows</dt>
          <dd id="policy-schedules">{r.schedules.length ? r.schedules.join("; ") : "any time"}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={r.created_at} /> by {r.created_by}
          </dd>
          {r.revoked_at
            ? (
              <>
                <dt>Revoked</dt>
                <dd id="policy-revoked">
                  <Time at={r.revoked_at} /> by {r.revoked_by}
                  {r.revoke_reason ? `: ${r.revoke_reason}` : ""}
                </dd>
              </>
            )
            : null}
        </dl>
      </div>
      {r.revoked_at ? null : (
        <form
          method="post"
          action={`/policies/${r.id}/revoke`}
          class="panel"
          id="revoke-form"
          data-confirm="Revoke this policy now?"
        >
          <Csrf token={p.csrf} />
          <div class="field">
            <label for="reason">Reason for revoking</label>
            <input id="reason" name="reason" maxLength={500} />
          </div>
          <button type="submit" class="danger" id="revoke">Revoke</button>
        </form>
      )}
      <div class="actions">
        <PostButton
          action={`/policies/${r.id}/delete`}
          csrf={p.csrf}
          label="Delete policy"
          danger
          confirm="Delete this policy for good?"
          id="delete-policy"
        />
      </div>
    </>
  );
}
