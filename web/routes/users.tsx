// /users: list and search, create, edit (source IPs, SSH keys, password), disable/enable, delete, detail.
import { type Context, Hono } from "hono";
import { createUser, deleteUser, getUser, listUsers, updateUser, type UserRow } from "../../db/users.ts";
import { resetTotp } from "../../db/totp.ts";
import { listPolicies } from "../../db/policies.ts";
import { recentSessionsOfUser } from "../../db/session_queries.ts";
import type { AppEnv } from "../deps.ts";
import { applianceKeyOf } from "../secret.ts";
import { formErrorsOf } from "../errors.tsx";
import { page } from "../render.tsx";
import { emailError, nameError, parseKeyLines, parseSourceLines } from "../validate.ts";
import { UserDetail, UserForm, UserList } from "../views/user_views.tsx";
import type { FormState } from "../views/parts.tsx";
import { byOf, formList, formOf, lines, need, type RouteCtx } from "./ctx.ts";

const FIELDS = ["name", "full_name", "email", "source_ips", "ssh_keys", "password", "remove_password"];
const FIELD_MAP = { source_ip: "source_ips", ssh_key: "ssh_keys", user: "name" };

function checkForm(v: Record<string, string>, creating: boolean) {
  const errors: Record<string, string> = {};
  if (creating) {
    const e = nameError(v.name ?? "");
    if (e) errors.name = e;
  }
  const em = emailError(v.email ?? "");
  if (em) errors.email = em;
  const ips = parseSourceLines(lines(v.source_ips));
  if (ips.error) errors.source_ips = ips.error;
  const keys = parseKeyLines(lines(v.ssh_keys));
  if (keys.error) errors.ssh_keys = keys.error;
  if ((v.password ?? "").length > 1024) errors.password = "at most 1024 characters";
  return { errors, ips: ips.ips, keys: keys.keys };
}

function sourceText(u: UserRow): string {
  return u.source_ips.map((s) => s.cidr.replace(/\/(32|128)$/, "") + (s.shared ? " shared" : "")).join("\n");
}

export function userRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));
  const csrf = (c: Context<AppEnv>) => c.get("session").csrfToken;
  const formPage = (c: Context<AppEnv>, form: FormState, user?: UserRow, status: 200 | 400 = 200) =>
    page(c, user ? `Edit ${user.name}` : "New user", <UserForm form={form} csrf={csrf(c)} user={user} />, {
      status,
    });

  app.get("/", async (c) => {
    const q = (c.req.query("q") ?? "").slice(0, 100);
    const users = await listUsers(deps.sql, { search: q || undefined, limit: 500 });
    const deleted = c.req.query("deleted");
    return page(
      c,
      "Users",
      <UserList users={users} q={q} flash={deleted ? `User ${deleted} deleted.` : undefined} />,
    );
  });

  app.get("/new", (c) => formPage(c, { values: {}, errors: {} }));

  app.post("/", async (c) => {
    const v = await formOf(c);
    const { errors, ips, keys } = checkForm(v, true);
    if (Object.keys(errors).length) return formPage(c, { values: v, errors }, undefined, 400);
    try {
      const u = await createUser(
        deps.sql,
        {
          name: v.name.trim(),
          email: v.email || null,
          fullName: v.full_name || null,
          password: v.password || null,
          sourceIps: ips,
          sshKeys: keys.map((k) => k.line),
        },
        byOf(c),
        v.password ? { secretKey: await applianceKeyOf(deps) } : {},
      );
      return c.redirect(`/users/${encodeURIComponent(u.name)}?created=1`, 303);
    } catch (e) {
      const fe = formErrorsOf(e, FIELD_MAP, FIELDS);
      if (!fe) throw e;
      return formPage(c, { values: v, errors: fe }, undefined, 400);
    }
  });

  app.get("/:name", async (c) => {
    const u = await getUser(deps.sql, c.req.param("name"));
    const [policies, sessions] = await Promise.all([
      listPolicies(deps.sql, { user: u.name, status: "all", limit: 200 }),
      recentSessionsOfUser(deps.sql, u.id, 20),
    ]);
    const flash = c.req.query("created") ? "User created." : c.req.query("saved") ? "Saved." : undefined;
    return page(
      c,
      `User ${u.name}`,
      <UserDetail u={u} policies={policies} sessions={sessions} csrf={csrf(c)} now={now()} flash={flash} />,
    );
  });

  app.get("/:name/edit", async (c) => {
    const u = await getUser(deps.sql, c.req.param("name"));
    return formPage(c, {
      values: { full_name: u.full_name ?? "", email: u.email ?? "", source_ips: sourceText(u) },
      errors: {},
    }, u);
  });

  app.post("/:name/edit", async (c) => {
    const u = await getUser(deps.sql, c.req.param("name"));
    const v = await formOf(c);
    const { errors, ips, keys } = checkForm(v, false);
    if (v.password && v.remove_password) errors.password = "set a new password or remove it, not both";
    if (Object.keys(errors).length) return formPage(c, { values: v, errors }, u, 400);
    const wanted = new Map(ips.map((i) => [i.cidr, i.shared]));
    const current = new Map(u.source_ips.map((s) => [s.cidr, s.shared]));
    try {
      await updateUser(
        deps.sql,
        u.name,
        {
          email: (v.email?.trim() || null) !== u.email ? v.email ?? "" : undefined,
          fullName: (v.full_name?.trim() || null) !== u.full_name ? v.full_name ?? "" : undefined,
          password: v.password ? v.password : v.remove_password ? null : undefined,
          removeSourceIps: [...current.keys()].filter((cidr) => !wanted.has(cidr)),
          addSourceIps: ips.filter((i) => current.get(i.cidr) !== i.shared),
          addSshKeys: keys.map((k) => k.line),
          removeSshKeys: await formList(c, "remove_key"),
        },
        byOf(c),
        v.password ? { secretKey: await applianceKeyOf(deps) } : {},
      );
    } catch (e) {
      const fe = formErrorsOf(e, FIELD_MAP, FIELDS);
      if (!fe) throw e;
      return formPage(c, { values: v, errors: fe }, u, 400);
    }
    return c.redirect(`/users/${encodeURIComponent(u.name)}?saved=1`, 303);
  });

  for (const op of ["disable", "enable"] as const) {
    app.post(`/:name/${op}`, async (c) => {
      const u = await updateUser(
        deps.sql,
        c.req.param("name"),
        { active: op === "enable" },
        byOf(c),
      );
      return c.redirect(`/users/${encodeURIComponent(u.name)}?saved=1`, 303);
    });
  }

  // a lost authenticator: removed with its recovery codes (audited); `jumphost user totp NAME --enrol` anew
  app.post("/:name/reset-totp", async (c) => {
    const u = await getUser(deps.sql, c.req.param("name"));
    await resetTotp(deps.sql, { kind: "user", id: u.id, name: u.name }, byOf(c));
    return c.redirect(`/users/${encodeURIComponent(u.name)}?saved=1`, 303);
  });

  app.post("/:name/delete", async (c) => {
    const name = c.req.param("name");
    await deleteUser(deps.sql, name, byOf(c));
    return c.redirect(`/users?deleted=${encodeURIComponent(name)}`, 303);
  });
  return app;
}
