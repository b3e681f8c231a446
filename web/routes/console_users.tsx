// /console-users (admin only): list, add with a random password shown once, reset another user's
// password (a new random one shown once; their console sessions end), delete.
import { removeAllPasskeys } from "../../db/console_passkeys.ts";
import { type Context, Hono } from "hono";
import { DbError } from "../../db/client.ts";
import {
  CONSOLE_ROLES,
  consoleUserNameError,
  createConsoleUser,
  deleteConsoleUser,
  findConsoleUserByName,
  isConsoleRole,
  listConsoleUsers,
  setConsolePassword,
} from "../../db/console_users.ts";
import { hashPassword, randomPassword } from "../../policy/password.ts";
import { clientIp } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { page } from "../render.tsx";
import { Csrf, Empty, Field, Flash, FormError, type FormState, PostButton, Time } from "../views/parts.tsx";
import { actorOf, byOf, formOf, need, type RouteCtx } from "./ctx.ts";
import type { ConsoleUser } from "../../db/console_users.ts";
import { resetTotp } from "../../db/totp.ts";

function ListPage(
  p: {
    users: ConsoleUser[];
    form: FormState;
    csrf: string;
    self: string;
    created?: { name: string; password: string };
    reset?: { name: string; password: string; sessionsEnded: number };
    flash?: string;
  },
) {
  return (
    <>
      <h1>Console users</h1>
      {p.created
        ? (
          <Flash kind="ok">
            Created <strong>{p.created.name}</strong>. Their password is shown once:{" "}
            <span class="secret" id="new-password">{p.created.password}</span>
          </Flash>
        )
        : null}
      {p.reset
        ? (
          <Flash kind="ok">
            New password for <strong>{p.reset.name}</strong>, shown once:{" "}
            <span class="secret" id="reset-password">{p.reset.password}</span>
            {p.reset.sessionsEnded > 0 ? ` (${p.reset.sessionsEnded} console session(s) logged out)` : ""}
          </Flash>
        )
        : null}
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <table id="console-users">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Active</th>
            <th>Last login (UTC)</th>
            <th>Locked until</th>
            <th>Own password</th>
            <th>TOTP</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.users.length === 0 ? <Empty cols={8} /> : null}
          {p.users.map((u) => (
            <tr>
              <td>
                {u.name}
                {u.sign_in === "sso"
                  ? (
                    <>
                      {" "}
                      <span class="muted sign-in">(single sign-on)</span>
                    </>
                  )
                  : u.sign_in === "directory"
                  ? (
                    <>
                      {" "}
                      <span class="muted sign-in">(directory)</span>
                    </>
                  )
                  : null}
              </td>
              <td>{u.role}</td>
              <td>{u.active ? "yes" : "no"}</td>
              <td>
                <Time at={u.last_login_at} />
              </td>
              <td>
                <Time at={u.locked_until} />
              </td>
              <td>{u.must_change_password ? "not chosen yet" : "yes"}</td>
              <td class="totp-state">
                {u.totp ?? (u.mfa_required && !u.passkeys ? "none (required)" : "none")}
                {u.passkeys ? `, ${u.passkeys} passkey(s)` : ""}
              </td>
              <td>
                {u.name === p.self
                  ? <a href="/account" class="muted">you: change password</a>
                  : (
                    <div class="actions">
                      <PostButton
                        action={`/console-users/${encodeURIComponent(u.name)}/reset-password`}
                        csrf={p.csrf}
                        label="Reset password"
                        confirm={`Give ${u.name} a new random password and log them out?`}
                      />
                      {u.totp || u.passkeys
                        ? (
                          <PostButton
                            action={`/console-users/${encodeURIComponent(u.name)}/reset-totp`}
                            csrf={p.csrf}
                            label="Reset second factor"
                            confirm={`Remove ${u.name}'s authenticator, recovery codes and passkeys? They set up a new one at their next login.`}
                          />
                        )
                        : null}
                      <PostButton
                        action={`/console-users/${encodeURIComponent(u.name)}/delete`}
                        csrf={p.csrf}
                        label="Delete"
                        danger
                        confirm={`Delete console user ${u.name}?`}
                      />
                    </div>
                  )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="panel">
        <h2>Add a console user</h2>
        <FormError form={p.form} />
        <form method="post" action="/console-users" id="console-user-form">
          <Csrf token={p.csrf} />
          <Field form={p.form} name="name" label="Name" required />
          <Field
            form={p.form}
            name="role"
            label="Role"
            options={CONSOLE_ROLES.map((r) => ({ value: r, label: r }))}
          />
          <button type="submit">Add</button>
        </form>
      </div>
    </>
  );
}

export function consoleUserRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("console_users"));

  const render = async (
    c: Context<AppEnv>,
    form: FormState,
    extra: {
      created?: { name: string; password: string };
      reset?: { name: string; password: string; sessionsEnded: number };
      flash?: string;
    } = {},
    status: 200 | 400 | 404 | 409 = 200,
  ) => {
    const s = c.get("session");
    return page(
      c,
      "Console users",
      <ListPage
        users={await listConsoleUsers(deps.sql)}
        form={form}
        csrf={s.csrfToken}
        self={s.userName}
        {...extra}
      />,
      { status },
    );
  };

  app.get(
    "/",
    (c) =>
      render(c, { values: { role: "auditor" }, errors: {} }, {
        flash: c.req.query("deleted") ? `Deleted ${c.req.query("deleted")}.` : undefined,
      }),
  );

  app.post("/", async (c) => {
    const v = await formOf(c);
    const name = (v.name ?? "").trim();
    const role = v.role ?? "";
    const errors: Record<string, string> = {};
    const nameErr = consoleUserNameError(name);
    if (nameErr) errors.name = nameErr;
    if (!isConsoleRole(role)) errors.role = `choose ${CONSOLE_ROLES.join(", ")}`;
    if (Object.keys(errors).length) return render(c, { values: v, errors }, {}, 400);
    const password = randomPassword();
    try {
      await createConsoleUser(deps.sql, {
        name,
        role: role as "admin",
        passwordHash: await hashPassword(password),
        mustChangePassword: true,
      }, {
        actor: actorOf(c.get("session")),
        sourceIp: clientIp(c),
      });
    } catch (e) {
      if (e instanceof DbError && e.code === "conflict") {
        return render(c, { values: v, errors: { name: e.message } }, {}, 409);
      }
      throw e;
    }
    return render(c, { values: { role: "auditor" }, errors: {} }, { created: { name, password } });
  });

  app.post("/:name/reset-password", async (c) => {
    const name = c.req.param("name");
    if (name === c.get("session").userName) {
      // one's own password needs the current one: the account page
      return c.redirect("/account", 303);
    }
    const password = randomPassword();
    let r;
    try {
      r = await setConsolePassword(deps.sql, name, await hashPassword(password), byOf(c), {
        action: "console.password_reset",
      });
    } catch (e) {
      if (e instanceof DbError && e.code === "not_found") {
        return render(c, { values: {}, errors: { _form: e.message } }, {}, 404);
      }
      throw e;
    }
    ctx.streams.endUser(r.userId, "revoked");
    return render(c, { values: { role: "auditor" }, errors: {} }, {
      reset: { name, password, sessionsEnded: r.sessionsEnded },
    });
  });

  // a lost authenticator: the account logs in with its password alone and sets up a new one (audited)
  app.post("/:name/reset-totp", async (c) => {
    const name = c.req.param("name");
    const target = await findConsoleUserByName(deps.sql, name);
    if (!target) {
      return render(c, { values: {}, errors: { _form: `console user "${name}" not found` } }, {}, 404);
    }
    if (name === c.get("session").userName) {
      return render(c, { values: {}, errors: { _form: "Another admin resets your own factor." } }, {}, 409);
    }
    const had = await resetTotp(deps.sql, { kind: "console", id: target.id, name }, byOf(c));
    const keys = await removeAllPasskeys(deps.sql, target.id, name, byOf(c));
    const what = [had ? "authenticator and recovery codes" : "", keys ? `${keys} passkey(s)` : ""].filter(
      Boolean,
    );
    return render(c, { values: { role: "auditor" }, errors: {} }, {
      flash: what.length ? `Removed ${name}'s ${what.join(" and ")}.` : `${name} had no second factor.`,
    });
  });

  app.post("/:name/delete", async (c) => {
    const name = c.req.param("name");
    const s = c.get("session");
    if (name === s.userName) {
      return render(c, { values: {}, errors: { _form: "You cannot delete your own account." } }, {}, 409);
    }
    const target = await findConsoleUserByName(deps.sql, name);
    try {
      await deleteConsoleUser(deps.sql, name, { actor: actorOf(s), sourceIp: clientIp(c) });
      // their sessions went with the account (cascade); their open live views end now, not at the re-check
      if (target) ctx.streams.endUser(target.id, "revoked");
    } catch (e) {
      if (e instanceof DbError && e.code === "conflict") {
        return render(c, { values: {}, errors: { _form: e.message } }, {}, 409);
      }
      throw e;
    }
    return c.redirect(`/console-users?deleted=${encodeURIComponent(name)}`, 303);
  });
  return app;
}
