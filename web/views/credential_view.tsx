// The server page's credential vault panel: the Windows logins the RDP proxy may inject toward this server.
// Lists logins and when they were set; a password is write-only (the field is never filled back in, not
// even after a rejected form).
import type { ServerCredentialRow } from "../../db/server_credentials.ts";
import { Csrf, Empty, Field, type FormState, Time } from "./parts.tsx";

export function CredentialsPanel(
  p: { server: string; rows: ServerCredentialRow[]; csrf: string; form: FormState },
) {
  const base = `/servers/${encodeURIComponent(p.server)}/credentials`;
  const err = p.form.errors.credential;
  // the login comes back after an error; the password never does
  const form: FormState = { values: { login: p.form.values.login ?? "" }, errors: {} };
  if (p.form.errors.login) form.errors.login = p.form.errors.login;
  if (p.form.errors.password) form.errors.password = p.form.errors.password;
  return (
    <div class="panel" id="server-credentials">
      <h2>Credential vault</h2>
      <p class="muted">
        Windows logins the RDP proxy logs in to {p.server}{" "}
        with on the user's behalf; users never see these passwords. A user picks one by logging in as{" "}
        <span class="mono">jumpuser+LOGIN</span>, and only logins their grant allows.
      </p>
      {err ? <div class="flash error" role="alert">{err}</div> : null}
      <table id="credentials-table">
        <thead>
          <tr>
            <th>Login</th>
            <th>Set by</th>
            <th>Set</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.rows.length === 0 ? <Empty cols={4}>No credentials.</Empty> : null}
          {p.rows.map((r) => (
            <tr key={r.login}>
              <td class="mono">{r.login}</td>
              <td>{r.set_by}</td>
              <td>
                <Time at={r.set_at} />
              </td>
              <td>
                <form
                  method="post"
                  action={`${base}/remove`}
                  data-confirm={`Remove the credential for ${r.login}?`}
                >
                  <Csrf token={p.csrf} />
                  <input type="hidden" name="login" value={r.login} />
                  <button type="submit" class="danger">Remove</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action={base} id="credential-form" autocomplete="off">
        <Csrf token={p.csrf} />
        <Field form={form} name="login" label="Login" required hint="DOMAIN\user, user@domain or user" />
        <Field
          form={form}
          name="password"
          label="Password"
          type="password"
          required
          autocomplete="new-password"
        />
        <button type="submit" id="credential-submit">Store credential</button>
      </form>
    </div>
  );
}
