// /servers/:name/credentials: store (add or replace) and remove a vaulted Windows credential. Operators and
// admins; CSRF like every form; audited by the store (server.credential_set/removed with the console user
// and source address, never the password).
import { type Context, Hono } from "hono";
import { getServer } from "../../db/servers.ts";
import { removeServerCredential, setServerCredential } from "../../db/server_credentials.ts";
import { InputError, NotFoundError } from "../../db/errors.ts";
import type { AppEnv } from "../deps.ts";
import { applianceKeyOf } from "../secret.ts";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";
import type { DetailRenderer } from "./server_backend_key.tsx";

const MAX_FIELD = 1024;

export function serverCredentialRoutes(ctx: RouteCtx, renderDetail: DetailRenderer): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));
  const done = (c: Context<AppEnv>, name: string, what: string) =>
    c.redirect(`/servers/${encodeURIComponent(name)}?credential=${what}`, 303);
  const failed = (c: Context<AppEnv>, name: string, login: string, e: unknown, status: 400 | 404) => {
    const field = e instanceof InputError && (e.field === "login" || e.field === "password")
      ? e.field
      : "credential";
    return renderDetail(c, name, { values: { login }, errors: { [field]: (e as Error).message } }, status);
  };

  app.post("/:name/credentials", async (c) => {
    const s = await getServer(deps.sql, c.req.param("name")); // 404 for an unknown server
    const v = await formOf(c);
    const login = (v.login ?? "").slice(0, MAX_FIELD);
    const password = v.password ?? "";
    if (password.length > MAX_FIELD) {
      return failed(c, s.name, login, new InputError("password", "password too long"), 400);
    }
    try {
      const r = await setServerCredential(
        deps.sql,
        await applianceKeyOf(deps),
        s.name,
        login,
        password,
        byOf(c),
      );
      return done(c, s.name, r.replaced ? "replaced" : "set");
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return failed(c, s.name, login, e, 400);
    }
  });

  app.post("/:name/credentials/remove", async (c) => {
    const s = await getServer(deps.sql, c.req.param("name"));
    const login = ((await formOf(c)).login ?? "").slice(0, MAX_FIELD);
    try {
      await removeServerCredential(deps.sql, s.name, login, byOf(c));
    } catch (e) {
      if (e instanceof InputError) return failed(c, s.name, login, e, 400);
      if (e instanceof NotFoundError) return failed(c, s.name, "", e, 404);
      throw e;
    }
    return done(c, s.name, "removed");
  });
  return app;
}
