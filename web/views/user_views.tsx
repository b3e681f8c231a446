// Users: list, form (create and edit), detail.
import type { UserRow } from "../../db/users.ts";
import type { PolicyRow } from "../../db/policies.ts";
import type { SessionRow } from "../../db/session_queries.ts";
import {
  Badge,
  Checkbox,
  Csrf,
  Empty,
  Field,
  Flash,
  FormError,
  type FormState,
  PostButton,
  Time,
} from "./parts.tsx";
import { SessionTable } from "./session_parts.tsx";
import { PolicyTable } from "./policy_parts.tsx";

export function UserList(p: { users: UserRow[]; q: string; flash?: string }) {
  return (
    <>
      <h1>Users</h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <form class="filters" method="get" action="/users">
        <label>
          Search
          <input name="q" value={p.q} placeholder="name, email, full name" />
        </label>
        <button type="submit">Search</button>
        <a class="button" href="/users/new" id="new-user">New user</a>
      </form>
      <table id="users-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Full name</th>
            <th>Email</th>
            <th>Status</th>
            <th>Source IPs</th>
            <th>Keys</th>
            <th>Groups</th>
          </tr>
        </thead>
        <tbody>
          {p.users.length === 0 ? <Empty cols={7}>No users.</Empty> : null}
          {p.users.map((u) => (
            <tr key={u.id}>
              <td>
                <a href={`/users/${encodeURIComponent(u.name)}`}>{u.name}</a>
              </td>
              <td>{u.full_name ?? ""}</td>
              <td>{u.email ?? ""}</td>
              <td>{u.active ? <Badge kind="ok">active</Badge> : <Badge kind="bad">disabled</Badge>}</td>
              <td class="mono">
                {u.source_ips.map((s) => s.cidr + (s.shared ? " (shared)" : "")).join(", ")}
              </td>
              <td>{u.ssh_keys.length}</td>
              <td>{u.groups.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function UserForm(p: { form: FormState; csrf: string; user?: UserRow }) {
  const edit = p.user !== undefined;
  const action = edit ? `/users/${encodeURIComponent(p.user!.name)}/edit` : "/users";
  return (
    <>
      <h1>{edit ? `Edit user ${p.user!.name}` : "New user"}</h1>
      <FormError form={p.form} />
      <form method="post" action={action} id="user-form" class="panel">
        <Csrf token={p.csrf} />
        {edit
          ? null
          : <Field form={p.form} name="name" label="Name" required hint="Letters, digits, '.', '_', '-'" />}
        <Field form={p.form} name="full_name" label="Full name" />
        <Field form={p.form} name="email" label="Email" type="email" />
        <Field
          form={p.form}
          name="source_ips"
          label="Source IPs / CIDRs"
          textarea
          hint="One per line, e.g. 192.0.2.7 or 10.1.0.0/24; add ' shared' for a range several users share (NAT, VPN)."
        />
        <Field
          form={p.form}
          name="ssh_keys"
          label={edit ? "Add SSH public keys" : "SSH public keys"}
          textarea
          hint="One OpenSSH public key per line (ssh-ed25519 AAAA… comment)."
        />
        {edit && p.user!.ssh_keys.length
          ? (
            <div class="field">
              <label>Remove SSH keys</label>
              {p.user!.ssh_keys.map((k) => (
                <label key={k.id} class="mono">
                  <input type="checkbox" name="remove_key" value={k.fingerprint} /> {k.key_type}{" "}
                  {k.fingerprint} {k.comment ?? ""}
                </label>
              ))}
            </div>
          )
          : null}
        <Field
          form={p.form}
          name="password"
          label={edit ? "New password" : "Password"}
          type="password"
          autocomplete="new-password"
          hint="Optional: lets the user log in at the jump host with a password instead of a key."
        />
        {edit && p.user!.has_password
          ? <Checkbox form={p.form} name="remove_password" label="Remove the password" />
          : null}
        <button type="submit" id="user-submit">{edit ? "Save" : "Create user"}</button>{" "}
        <a class="button secondary" href={edit ? `/users/${encodeURIComponent(p.user!.name)}` : "/users"}>
          Cancel
        </a>
      </form>
    </>
  );
}

export function UserDetail(
  p: { u: UserRow; policies: PolicyRow[]; sessions: SessionRow[]; csrf: string; now: Date; flash?: string },
) {
  const u = p.u;
  const base = `/users/${encodeURIComponent(u.name)}`;
  return (
    <>
      <h1>
        User {u.name} {u.active ? <Badge kind="ok">active</Badge> : <Badge kind="bad">disabled</Badge>}
      </h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <div class="actions">
        <a class="button" href={`${base}/edit`} id="edit-user">Edit</a>
        {u.active
          ? <PostButton action={`${base}/disable`} csrf={p.csrf} label="Disable" id="disable-user" />
          : <PostButton action={`${base}/enable`} csrf={p.csrf} label="Enable" id="enable-user" />}
        <PostButton
          action={`${base}/delete`}
          csrf={p.csrf}
          label="Delete"
          danger
          confirm={`Delete user ${u.name}?`}
          id="delete-user"
        />
        <a
          class="button secondary"
          href={`/policies/new?subject_kind=user&subject=${encodeURIComponent(u.name)}`}
        >
          Grant access…
        </a>
      </div>
      <div class="grid2">
        <div class="panel">
          <dl class="kv">
            <dt>Full name</dt>
            <dd>{u.full_name ?? "—"}</dd>
            <dt>Email</dt>
            <dd>{u.email ?? "—"}</dd>
            <dt>Password</dt>
            <dd>{u.has_password ? "set" : "none"}</dd>
            <dt>TOTP (SSH)</dt>
            <dd id="user-totp">
              {u.totp ?? "none"}
              {u.mfa_required ? " · second factor required" : ""}
              {u.totp
                ? (
                  <PostButton
                    action={`${base}/reset-totp`}
                    csrf={p.csrf}
                    label="Reset TOTP"
                    confirm={`Remove ${u.name}'s authenticator and recovery codes?`}
                    id="reset-user-totp"
                  />
                )
                : null}
            </dd>
            <dt>Groups</dt>
            <dd>
              {u.groups.length
                ? u.groups.map((g, i) => (
                  <>
                    {i ? ", " : ""}
                    <a href={`/groups/user/${encodeURIComponent(g)}`}>{g}</a>
                  </>
                ))
                : "—"}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={u.created_at} />
            </dd>
          </dl>
        </div>
        <div class="panel">
          <h2>Source IPs</h2>
          <ul class="inline-list mono" id="user-source-ips">
            {u.source_ips.length === 0 ? <li class="muted">none</li> : null}
            {u.source_ips.map((s) => <li key={s.cidr}>{s.cidr}{s.shared ? " (shared)" : ""}</li>)}
          </ul>
          <h2>SSH keys</h2>
          <table id="user-keys">
            <tbody>
              {u.ssh_keys.length === 0 ? <Empty cols={3}>none</Empty> : null}
              {u.ssh_keys.map((k) => (
                <tr key={k.id}>
                  <td>{k.key_type}</td>
                  <td class="mono">{k.fingerprint}</td>
                  <td>{k.comment ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <h2>Policies</h2>
      <PolicyTable rows={p.policies} />
      <h2>Recent sessions</h2>
      <SessionTable rows={p.sessions} now={p.now} />
    </>
  );
}
