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

function AccountPage(
  p: {
    name: string;
    role: string;
    since: Date;
    form: FormState;
    csrf: string;
    changed?: number;
    mustChange: boolean;
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

export function accountRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now, limits, streams } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));

  // passwords are never echoed back into a form
  const render = (c: Context<AppEnv>, errors: Record<string, string>, status: 200 | 400 | 429 = 200) => {
    const s = c.get("session");
    const changed = c.req.query("changed");
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
      />,
      { status },
    );
  };

  app.get("/", (c) => render(c, {}));

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
