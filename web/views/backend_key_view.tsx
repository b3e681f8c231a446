// The server page's "appliance backend key" panel: the key the SSH proxy logs in to this backend with when
// the user brings none. Shows the public half only; the private key is never rendered, even after a
// rejected import.
import { Csrf, FormError, type FormState, PostButton } from "./parts.tsx";

export type BackendKeyState =
  | { kind: "none" }
  | { kind: "key"; type: string; fingerprint: string; publicKey: string }
  | { kind: "invalid"; message: string }
  | { kind: "unavailable" };

export function BackendKeyPanel(
  p: { server: string; state: BackendKeyState; csrf: string; canManage: boolean; form: FormState },
) {
  const base = `/servers/${encodeURIComponent(p.server)}/backend-key`;
  const st = p.state;
  const has = st.kind === "key" || st.kind === "invalid";
  const replaceNote =
    `Replace the backend key of ${p.server}? Its public key must then be authorized on the backend again.`;
  return (
    <div class="panel" id="backend-key">
      <h2>Appliance backend key</h2>
      <p class="muted">
        The key the SSH proxy logs in to {p.server}{" "}
        with when the user brings no agent or password. Add its public key to the login's
        ~/.ssh/authorized_keys on {p.server}.
      </p>
      <FormError form={p.form} />
      {st.kind === "unavailable"
        ? (
          <p class="muted" id="backend-key-state">
            Not available: the console was started without a data directory.
          </p>
        )
        : st.kind === "none"
        ? <p class="muted" id="backend-key-state">No backend key.</p>
        : st.kind === "invalid"
        ? <p class="flash error" id="backend-key-state">The stored key cannot be used: {st.message}</p>
        : (
          <dl class="kv" id="backend-key-state">
            <dt>Type</dt>
            <dd id="backend-key-type">{st.type}</dd>
            <dt>Fingerprint</dt>
            <dd class="mono" id="backend-key-fingerprint">{st.fingerprint}</dd>
            <dt>Public key</dt>
            <dd>
              <textarea id="backend-public-key" class="mono pubkey" readOnly rows={3}>
                {st.publicKey}
              </textarea>
              <button type="button" class="secondary" data-copy="#backend-public-key" id="copy-public-key">
                Copy
              </button>
            </dd>
          </dl>
        )}
      {p.canManage && st.kind !== "unavailable"
        ? (
          <>
            <div class="actions">
              <form method="post" action={`${base}/generate`} data-confirm={has ? replaceNote : undefined}>
                <Csrf token={p.csrf} />
                {has ? <input type="hidden" name="replace" value="1" /> : null}
                <button type="submit" id="generate-backend-key">
                  {has ? "Generate a new key" : "Generate a key"}
                </button>
              </form>
              {has
                ? (
                  <PostButton
                    action={`${base}/remove`}
                    csrf={p.csrf}
                    label="Remove key"
                    danger
                    confirm={`Remove the backend key of ${p.server}? The proxy then cannot log in with it.`}
                    id="remove-backend-key"
                  />
                )
                : null}
            </div>
            <details open={p.form.errors.private_key ? true : undefined}>
              <summary>Import a private key</summary>
              <form
                method="post"
                action={`${base}/import`}
                id="import-backend-key"
                data-confirm={has ? replaceNote : undefined}
              >
                <Csrf token={p.csrf} />
                {has ? <input type="hidden" name="replace" value="1" /> : null}
                <div class={p.form.errors.private_key ? "field invalid" : "field"}>
                  <label for="f-private_key">Unencrypted private key (OpenSSH or PEM)</label>
                  <textarea
                    id="f-private_key"
                    name="private_key"
                    class="mono pubkey"
                    rows={6}
                    autocomplete="off"
                    spellcheck={false}
                    required
                    aria-invalid={p.form.errors.private_key ? true : undefined}
                  >
                  </textarea>
                  {p.form.errors.private_key
                    ? <span class="error" id="f-private_key-err">{p.form.errors.private_key}</span>
                    : null}
                </div>
                <button type="submit" id="import-backend-key-submit">Import</button>
              </form>
            </details>
          </>
        )
        : null}
    </div>
  );
}
