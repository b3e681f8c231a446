// /groups: server groups and user groups, their members.
import { type Context, Hono } from "hono";
import {
  createGroup,
  deleteGroup,
  getGroup,
  type GroupKind,
  listGroups,
  setMembership,
  updateGroupDescription,
} from "../../db/groups.ts";
import { listServers } from "../../db/servers.ts";
import { keepFilesOfGroup, setKeepFiles } from "../../db/file_keeping.ts";
import { listUsers } from "../../db/users.ts";
import type { AppEnv } from "../deps.ts";
import { formErrorsOf, notFound } from "../errors.tsx";
import { page } from "../render.tsx";
import { nameError } from "../validate.ts";
import type { FormState } from "../views/parts.tsx";
import { GroupPage, GroupsPage } from "../views/group_views.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";

function kindOf(k: string): GroupKind {
  if (k !== "server" && k !== "user") throw notFound("group kind");
  return k;
}

export function groupRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));

  const listPage = async (
    c: Context<AppEnv>,
    forms: Partial<Record<GroupKind, FormState>> = {},
    status: 200 | 400 = 200,
  ) => {
    const [server, user] = await Promise.all([listGroups(deps.sql, "server"), listGroups(deps.sql, "user")]);
    const deleted = c.req.query("deleted");
    return page(
      c,
      "Groups",
      <GroupsPage
        server={server}
        user={user}
        csrf={c.get("session").csrfToken}
        forms={forms}
        flash={deleted ? `Group ${deleted} deleted.` : undefined}
      />,
      { status },
    );
  };
  const groupPage = async (c: Context<AppEnv>, kind: GroupKind, name: string, error?: string) => {
    const g = await getGroup(deps.sql, kind, name);
    const all = kind === "server"
      ? (await listServers(deps.sql)).map((s) => s.name)
      : (await listUsers(deps.sql, { limit: 5000 })).map((u) => u.name);
    const flash = c.req.query("saved") ? "Saved." : c.req.query("created") ? "Group created." : undefined;
    return page(
      c,
      `Group ${g.name}`,
      <GroupPage
        kind={kind}
        g={g}
        candidates={all.filter((n) => !g.members.includes(n))}
        csrf={c.get("session").csrfToken}
        error={error}
        flash={flash}
        keep={kind === "server" ? await keepFilesOfGroup(deps.sql, g.name) : undefined}
      />,
      { status: error ? 400 : 200 },
    );
  };

  app.get("/", (c) => listPage(c));

  app.post("/:kind", async (c) => {
    const kind = kindOf(c.req.param("kind"));
    const v = await formOf(c);
    const ne = nameError(v.name ?? "");
    if (ne) return listPage(c, { [kind]: { values: v, errors: { name: ne } } }, 400);
    try {
      const g = await createGroup(deps.sql, kind, {
        name: v.name.trim(),
        description: v.description?.trim() || null,
      }, byOf(c));
      return c.redirect(`/groups/${kind}/${encodeURIComponent(g.name)}?created=1`, 303);
    } catch (e) {
      const fe = formErrorsOf(e, {}, ["name", "description"]);
      if (!fe) throw e;
      return listPage(c, { [kind]: { values: v, errors: fe } }, 400);
    }
  });

  app.get("/:kind/:name", (c) => groupPage(c, kindOf(c.req.param("kind")), c.req.param("name")));

  for (const op of ["add", "remove"] as const) {
    app.post(`/:kind/:name/members/${op}`, async (c) => {
      const kind = kindOf(c.req.param("kind"));
      const name = c.req.param("name");
      const member = (await formOf(c)).member ?? "";
      try {
        await setMembership(deps.sql, kind, name, [member], op === "add", byOf(c));
      } catch (e) {
        const fe = formErrorsOf(e);
        if (!fe) throw e;
        // a missing group still ends in 404: groupPage looks it up again
        return groupPage(c, kind, name, Object.values(fe)[0]);
      }
      return c.redirect(`/groups/${kind}/${encodeURIComponent(name)}?saved=1`, 303);
    });
  }

  app.post("/:kind/:name/edit", async (c) => {
    const kind = kindOf(c.req.param("kind"));
    const name = c.req.param("name");
    const v = await formOf(c);
    try {
      await updateGroupDescription(deps.sql, kind, name, v.description ?? null, byOf(c));
    } catch (e) {
      const fe = formErrorsOf(e);
      if (!fe) throw e;
      return groupPage(c, kind, name, Object.values(fe)[0]);
    }
    return c.redirect(`/groups/${kind}/${encodeURIComponent(name)}?saved=1`, 303);
  });

  app.post("/server/:name/keep-files", async (c) => {
    const name = c.req.param("name");
    const v = await formOf(c);
    const max = Number(v.keep_files_max_mb);
    try {
      await setKeepFiles(deps.sql, name, { on: v.keep_files === "on", maxMb: max }, byOf(c));
    } catch (e) {
      const fe = formErrorsOf(e);
      if (!fe) throw e;
      return groupPage(c, "server", name, Object.values(fe)[0]);
    }
    return c.redirect(`/groups/server/${encodeURIComponent(name)}?saved=1`, 303);
  });

  app.post("/:kind/:name/delete", async (c) => {
    const kind = kindOf(c.req.param("kind"));
    const name = c.req.param("name");
    await deleteGroup(deps.sql, kind, name, byOf(c));
    return c.redirect(`/groups?deleted=${encodeURIComponent(name)}`, 303);
  });
  return app;
}
