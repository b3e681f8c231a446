// /account: every console user's own page: who they are, and changing their own password (the current
// password is required; the other console sessions of the account end, this one stays). An account whose
// password someone else set is sent here first (password_gate.ts); changing it lifts that.
import { type Context, Hono } from "hono";
import { writeAudit } from "../../db/audit.ts";
import {
  CONSOLE_PASSWORD_MIN,
  consolePasswordError,
  findConsoleUserByName,
  recordAccountFailure,
  setConsolePassword,
} from "../../db/console_users.ts";
import { hashPassword, verifyPassword } from "../../policy/password.ts";
import type { AppEnv } from "../deps.ts";
import { page } from "../render.tsx";
import { Csrf, Field, Flash, FormError, type FormState, Time } from "../views/parts.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";
import { enrolTotp, type FactorOwner, totpFactorOf, verifySecondFactor } from "../../db/totp.ts";
import { InputError } from "../../db/errors.ts";
import type { ConsoleSession } from "../../db/console_sessions.ts";
import { applianceKeyOf } from "../secret.ts";
import { qrSvg } from "../../core/qr.ts";
import { listPasskeys, type PasskeyRow, removePasskey } from "../../db/console_passkeys.ts";
import { passkeyRoutes } from "../passkeys/account_routes.ts";

function ownerOf(s: ConsoleSession): FactorOwner {
  return { kind: "console", id: s.userId, name: s.userName };
}

function AccountPage(
  p: {
    name: string;
    role: string;
    since: Date;
    form: FormState;
    csrf: string;
    changed?: number;
    mustChange: boolean;
    totp: TotpPanelProps;
    passkeys: PasskeyRow[];
    passkeyFlash?: string;
  },
) {
  return (
    <>
      <h1>Your account</h1>
      {p.mustChange
        ? (
          <Flash kind="info">
            <span id="must-change">
              Your password was set by an administrator. Choose your own password below before using the
              console: enter the password you were given as the current one.
            </span>
          </Flash>
        )
        : null}
      {p.changed !== undefined
        ? (
          <Flash kind="ok">
            Your password was changed.
            {p.changed > 0 ? ` ${p.changed} other console session(s) were logged out.` : ""}
          </Flash>
        )
        : null}
      <dl class="kv" id="account-fields">
        <dt>Name</dt>
        <dd id="account-name">{p.name}</dd>
        <dt>Role</dt>
        <dd>{p.role}</dd>
        <dt>Logged in since (UTC)</dt>
        <dd>
          <Time at={p.since} />
        </dd>
      </dl>
      <TotpPanel {...p.totp} csrf={p.csrf} />
      <PasskeyPanel passkeys={p.passkeys} csrf={p.csrf} flash={p.passkeyFlash} />
      <div class="panel">
        <h2>Change your password</h2>
        <FormError form={p.form} />
        <form method="post" action="/account/password" id="password-form">
          <Csrf token={p.csrf} />
          <input type="text" name="username" value={p.name} autocomplete="username" hidden />
          <Field
            form={p.form}
            name="current"
            label="Current password"
            type="password"
            autocomplete="current-password"
            required
          />
          <Field
            form={p.form}
            name="password"
            label="New password"
            type="password"
            autocomplete="new-password"
            hint={`at least ${CONSOLE_PASSWORD_MIN} characters, not containing your name`}
            required
          />
          <Field
            form={p.form}
            name="confirm"
            label="New password again"
            type="password"
            autocomplete="new-password"
            required
          />
          <button type="submit" id="change-password">Change password</button>
        </form>
      </div>
    </>
  );
}

function PasskeyPanel(p: { passkeys: PasskeyRow[]; csrf: string; flash?: string }) {
  return (
    <div class="panel" id="passkey-panel">
      <h2>Passkeys</h2>
      <p>
        A passkey (a security key, or your device's fingerprint, face or PIN) logs you in without a password,
        or is asked after it as your second factor. It works only at the address you add it on.
      </p>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      {p.passkeys.length
        ? (
          <table id="passkeys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Added (UTC)</th>
                <th>Last used (UTC)</th>
                <th>For</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {p.passkeys.map((k) => (
                <tr>
                  <td class="passkey-name">{k.name}</td>
                  <td>
                    <Time at={k.created_at} />
                  </td>
                  <td>{k.last_used_at ? <Time at={k.last_used_at} /> : "never"}</td>
                  <td>{k.rp_id}</td>
                  <td>
                    <form
                      method="post"
                      action={`/account/passkeys/${k.id}/remove`}
                      data-confirm={`Remove the passkey ${k.name}?`}
                    >
                      <Csrf token={p.csrf} />
                      <button type="submit" class="danger">Remove</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : <p id="no-passkeys">No passkey yet.</p>}
      <div class="field">
        <label for="passkey-name">Name of the new passkey</label>
        <input id="passkey-name" maxlength={64} value="Passkey" />
      </div>
      <button type="button" id="passkey-add">Add a passkey</button>
      <div id="passkey-status" role="status"></div>
    </div>
  );
}

interface TotpPanelProps {
  state: "none" | "pending" | "active";
  recoveryLeft: number;
  /** console_mfa = required or the account's mfa_required, while not enrolled */
  required: boolean;
  /** right after "Set up": the QR code (inline SVG), the secret and the recovery codes, shown once */
  enrolment?: { svg: string; secret: string; recoveryCodes: string[] };
  error?: string;
  justEnabled?: boolean;
}

function TotpPanel(p: TotpPanelProps & { csrf: string }) {
  return (
    <div class="panel" id="totp-panel">
      <h2>Two-factor authentication (TOTP)</h2>
      {p.required && p.state !== "active"
        ? (
          <Flash kind="info">
            <span id="mfa-required">
              A second factor is required for your account: set up an authenticator app before using the
              console.
            </span>
          </Flash>
        )
        : null}
      {p.justEnabled ? <Flash kind="ok">Two-factor authentication is on.</Flash> : null}
      {p.error ? <div class="flash error" role="alert" id="totp-error">{p.error}</div> : null}
      {p.state === "active"
        ? (
          <p id="totp-state">
            Active: logins ask for a code from your authenticator app. {p.recoveryLeft}{" "}
            recovery code(s) left. Lost your device? An administrator can reset it (<code>
              jumphost admin totp NAME --reset
            </code>).
          </p>
        )
        : p.enrolment
        ? (
          <div id="totp-enrolment">
            <p>
              Scan this QR code with your authenticator app (or type the secret), then enter the code it
              shows. The secret and the recovery codes are shown only now.
            </p>
            <div class="qr" id="totp-qr" dangerouslySetInnerHTML={{ __html: p.enrolment.svg }} />
            <p>
              Secret: <code id="totp-secret">{p.enrolment.secret}</code>
            </p>
            <p>Recovery codes (each works once, keep them safe):</p>
            <ul id="recovery-codes">
              {p.enrolment.recoveryCodes.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
          </div>
        )
        : p.state === "none"
        ? <p id="totp-state">Not set up.</p>
        : <p id="totp-state">Set up started but not confirmed.</p>}
      {p.state === "pending" || p.enrolment
        ? (
          <form method="post" action="/account/totp/confirm" id="totp-confirm-form">
            <Csrf token={p.csrf} />
            <div class="field">
              <label for="totp-code">Code from your app</label>
              <input id="totp-code" name="code" autocomplete="one-time-code" inputmode="numeric" required />
            </div>
            <button type="submit" id="totp-confirm">Turn on</button>
          </form>
        )
        : null}
      {p.state !== "active"
        ? (
          <form method="post" action="/account/totp/enrol" id="totp-enrol-form">
            <Csrf token={p.csrf} />
            <button type="submit" id="totp-enrol">
              {p.state === "none" && !p.enrolment
                ? "Set up an authenticator"
                : "Start again with a new secret"}
            </button>
          </form>
        )
        : null}
    </div>
  );
}

export function accountRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now, limits, streams } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));

  // passwords are never echoed back into a form
  const render = async (
    c: Context<AppEnv>,
    errors: Record<string, string>,
    status: 200 | 400 | 429 = 200,
    totpExtra: Pick<TotpPanelProps, "enrolment" | "error"> = {},
  ) => {
    const s = c.get("session");
    const changed = c.req.query("changed");
    const factor = await totpFactorOf(deps.sql, ownerOf(s));
    const totp: TotpPanelProps = {
      state: factor === null ? "none" : factor.confirmed ? "active" : "pending",
      recoveryLeft: factor?.recoveryCodesLeft ?? 0,
      required: (deps.consoleMfa ?? "optional") === "required" || s.mfaRequired,
      justEnabled: c.req.query("totp") === "on",
      ...totpExtra,
    };
    const passkeys = await listPasskeys(deps.sql, s.userId);
    const pk = c.req.query("passkey");
    return page(
      c,
      "Your account",
      <AccountPage
        name={s.userName}
        role={s.role}
        since={s.createdAt}
        form={{ values: {}, errors }}
        csrf={s.csrfToken}
        changed={changed !== undefined && /^\d{1,6}$/.test(changed) ? Number(changed) : undefined}
        mustChange={s.mustChangePassword}
        totp={totp}
        passkeys={passkeys}
        passkeyFlash={pk === "added"
          ? "Your passkey was added."
          : pk === "removed"
          ? "The passkey was removed."
          : undefined}
      />,
      { status, scripts: ["passkeys.js"] },
    );
  };

  app.get("/", (c) => render(c, {}));

  app.route("/passkeys", passkeyRoutes(ctx));
  app.post("/passkeys/:id/remove", async (c) => {
    const s = c.get("session");
    const id = Number(c.req.param("id"));
    if (Number.isSafeInteger(id)) await removePasskey(deps.sql, s.userId, s.userName, id, byOf(c));
    return c.redirect("/account?passkey=removed", 303);
  });

  app.post("/totp/enrol", async (c) => {
    const s = c.get("session");
    let e;
    try {
      e = await enrolTotp(deps.sql, await applianceKeyOf(deps), ownerOf(s), byOf(c));
    } catch (err) {
      if (err instanceof InputError) return await render(c, {}, 400, { error: err.message });
      throw err;
    }
    const svg = await qrSvg(e.uri);
    return await render(c, {}, 200, { enrolment: { svg, secret: e.secret, recoveryCodes: e.recoveryCodes } });
  });

  app.post("/totp/confirm", async (c) => {
    const s = c.get("session");
    const code = ((await formOf(c)).code ?? "").trim();
    const r = await verifySecondFactor(deps.sql, await applianceKeyOf(deps), ownerOf(s), code, now(), {
      allowPending: true,
    });
    if (!r.ok || r.method !== "totp") {
      const why = !r.ok && r.reason === "no_factor"
        ? "Start the set-up first."
        : "That code is wrong or already used: enter the current code from your app.";
      return await render(c, {}, 400, { error: why });
    }
    return c.redirect("/account?totp=on", 303);
  });

  app.post("/password", async (c) => {
    const s = c.get("session");
    const v = await formOf(c);
    const current = v.current ?? "", password = v.password ?? "", confirm = v.confirm ?? "";
    const errors: Record<string, string> = {};
    if (current === "") errors.current = "enter your current password";
    const weak = consolePasswordError(password, s.userName);
    if (weak) errors.password = weak;
    else if (password === current) errors.password = "choose a password different from the current one";
    else if (confirm !== password) errors.confirm = "the two new passwords differ";
    if (Object.keys(errors).length) return render(c, errors, 400);

    const user = await findConsoleUserByName(deps.sql, s.userName);
    if (user?.locked_until && user.locked_until > now()) {
      return render(
        c,
        { _form: "Too many wrong passwords: this account is locked for now. Try later." },
        429,
      );
    }
    if (!user || current.length > 1024 || !(await verifyPassword(current, user.password_hash))) {
      // counts towards the account lockout, so a borrowed session cannot guess the password
      const lockedUntil = user ? await recordAccountFailure(deps.sql, user.id, now(), limits.account) : null;
      const by = byOf(c);
      await writeAudit(deps.sql, {
        actor: by.actor,
        action: "console.password_change",
        target: s.userName,
        sourceIp: by.sourceIp,
        success: false,
        details: { reason: "wrong_current_password", ...(lockedUntil ? { locked_until: lockedUntil } : {}) },
      }, deps.nodeId);
      return render(c, { current: "the current password is wrong" }, 400);
    }
    const r = await setConsolePassword(deps.sql, s.userName, await hashPassword(password), byOf(c), {
      action: "console.password_change",
      keepTokenHash: s.tokenHash,
    });
    streams.endUser(r.userId, "revoked", s.tokenHash);
    return c.redirect(`/account?changed=${r.sessionsEnded}`, 303);
  });
  return app;
}
