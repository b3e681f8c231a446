// /servers: list and search, create, edit (pool IP, ports, protocols), host key reset, delete, detail (with
// the appliance's backend key, managed in server_backend_key.tsx).
import { type Context, Hono } from "hono";
import { createServer, getServer, listServers, type ServerRow, updateServer } from "../../db/servers.ts";
import { listPolicies } from "../../db/policies.ts";
import { deleteServerAndKey } from "../../keys/server_removal.ts";
import { recentSessionsOfServer } from "../../db/session_queries.ts";
import type { AppEnv } from "../deps.ts";
import { formErrorsOf } from "../errors.tsx";
import { page } from "../render.tsx";
import { nameError, portError } from "../validate.ts";
import { emptyForm, type FormState } from "../views/parts.tsx";
import { ServerDetail, ServerForm, ServerList } from "../views/server_views.tsx";
import { byOf, formList, formOf, need, type RouteCtx } from "./ctx.ts";
import { backendKeyRoutes, backendKeyState, type DetailRenderer } from "./server_backend_key.tsx";
import { can } from "../auth.ts";
import { DEFAULT_PASSWORD_PASSTHROUGH, DEFAULT_RDP_SECURITY, isRdpSecurity } from "../../policy/model.ts";
import { listServerCredentials } from "../../db/server_credentials.ts";
import { serverCredentialRoutes } from "./server_credentials.tsx";

const FIELDS = [
  "name",
  "address",
  "protocols",
  "ssh_port",
  "rdp_port",
  "pool_ip",
  "rdp_listen_port",
  "rdp_security",
  "password_passthrough",
  "description",
];

function checkForm(v: Record<string, string>, creating: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  if (creating) {
    const e = nameError(v.name ?? "");
    if (e) errors.name = e;
  }
  if (!(v.address ?? "").trim()) errors.address = "required";
  else if (!/^[A-Za-z0-9.:_-]{1,255}$/.test(v.address.trim())) errors.address = "not a host name or IP";
  if (!v.protocols) errors.protocols = "choose SSH, RDP or both";
  if (v.rdp_security && !isRdpSecurity(v.rdp_security)) errors.rdp_security = "choose nla, tls or any";
  for (const f of ["ssh_port", "rdp_port", "rdp_listen_port"]) {
    const e = portError(v[f] ?? "");
    if (e) errors[f] = e;
  }
  return errors;
}

const num = (s: string | undefined) => (s && s.trim() !== "" ? Number(s) : undefined);

export function serverRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const pool = deps.ipPool ?? null;
  const reservedPoolIps = deps.reservedPoolIps ?? (() => Promise.resolve([]));
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));
  const csrf = (c: Context<AppEnv>) => c.get("session").csrfToken;
  const formPage = (c: Context<AppEnv>, form: FormState, server?: ServerRow, status: 200 | 400 = 200) =>
    page(
      c,
      server ? `Edit ${server.name}` : "New server",
      <ServerForm form={form} csrf={csrf(c)} server={server} pool={pool} />,
      {
        status,
      },
    );
  const readForm = async (c: Context<AppEnv>) => {
    const v = await formOf(c);
    v.protocols = (await formList(c, "protocols")).join(",");
    return v;
  };

  app.get("/", async (c) => {
    const q = (c.req.query("q") ?? "").slice(0, 100);
    const deleted = c.req.query("deleted");
    return page(
      c,
      "Servers",
      <ServerList
        servers={await listServers(deps.sql, { search: q || undefined })}
        q={q}
        pool={pool}
        flash={deleted ? `Server ${deleted} deleted.` : undefined}
      />,
    );
  });

  app.get(
    "/new",
    (c) =>
      formPage(c, {
        values: {
          protocols: "ssh",
          ssh_port: "22",
          rdp_port: "3389",
          pool_ip: pool ? "auto" : "",
          rdp_security: DEFAULT_RDP_SECURITY,
          password_passthrough: DEFAULT_PASSWORD_PASSTHROUGH ? "on" : "",
        },
        errors: {},
      }),
  );

  app.post("/", async (c) => {
    const v = await readForm(c);
    const errors = checkForm(v, true);
    if (Object.keys(errors).length) return formPage(c, { values: v, errors }, undefined, 400);
    try {
      const s = await createServer(
        deps.sql,
        {
          name: v.name.trim(),
          address: v.address.trim(),
          sshPort: num(v.ssh_port),
          rdpPort: num(v.rdp_port),
          protocols: v.protocols.split(","),
          poolIp: v.pool_ip?.trim() || "none",
          rdpListenPort: num(v.rdp_listen_port) ?? null,
          rdpSecurity: v.rdp_security || undefined,
          passwordPassthrough: !!v.password_passthrough,
          description: v.description || null,
        },
        byOf(c),
        pool,
        await reservedPoolIps(),
      );
      return c.redirect(`/servers/${encodeURIComponent(s.name)}?created=1`, 303);
    } catch (e) {
      const fe = formErrorsOf(e, {}, FIELDS);
      if (!fe) throw e;
      return formPage(c, { values: v, errors: fe }, undefined, 400);
    }
  });

  const CREDENTIAL_FLASH: Record<string, string> = {
    set: "Credential stored.",
    replaced: "Credential replaced.",
    removed: "Credential removed.",
  };
  const KEY_FLASH: Record<string, string> = {
    generated: "Backend key generated: authorize its public key on the backend.",
    imported: "Backend key imported.",
    removed: "Backend key removed.",
  };
  const detail: DetailRenderer = async (c, name, keyForm, status) => {
    const s = await getServer(deps.sql, name);
    const [policies, sessions, key, credentials] = await Promise.all([
      listPolicies(deps.sql, { server: s.name, status: "all", limit: 200 }),
      recentSessionsOfServer(deps.sql, s.id, 20),
      backendKeyState(deps.dataDir, s.name),
      listServerCredentials(deps.sql, s.name),
    ]);
    const q = c.req.method === "GET" ? c.req.query() : {};
    const flash = q.created
      ? "Server created."
      : q.saved
      ? "Saved."
      : q.reset
      ? "Host key forgotten."
      : q.key
      ? KEY_FLASH[q.key]
      : q.credential
      ? CREDENTIAL_FLASH[q.credential]
      : undefined;
    return page(
      c,
      `Server ${s.name}`,
      <ServerDetail
        s={s}
        policies={policies}
        sessions={sessions}
        csrf={csrf(c)}
        now={now()}
        flash={flash}
        backendKey={{ state: key, form: keyForm, canManage: can(c.get("session").role, "manage") }}
        credentials={{ rows: credentials, form: keyForm }}
      />,
      { status },
    );
  };

  app.get("/:name", (c) => detail(c, c.req.param("name"), emptyForm(), 200));
  app.route("/", backendKeyRoutes(ctx, detail));
  app.route("/", serverCredentialRoutes(ctx, detail));

  app.get("/:name/edit", async (c) => {
    const s = await getServer(deps.sql, c.req.param("name"));
    return formPage(c, {
      values: {
        address: s.address,
        protocols: s.protocols.join(","),
        ssh_port: String(s.ssh_port),
        rdp_port: String(s.rdp_port),
        pool_ip: s.pool_ip ?? "",
        rdp_listen_port: s.rdp_listen_port === null ? "" : String(s.rdp_listen_port),
        rdp_security: s.rdp_security,
        password_passthrough: s.password_passthrough ? "on" : "",
        description: s.description ?? "",
        active: s.active ? "on" : "",
      },
      errors: {},
    }, s);
  });

  app.post("/:name/edit", async (c) => {
    const s = await getServer(deps.sql, c.req.param("name"));
    const v = await readForm(c);
    const errors = checkForm(v, false);
    if (Object.keys(errors).length) return formPage(c, { values: v, errors }, s, 400);
    const poolIp = (v.pool_ip ?? "").trim();
    const listen = num(v.rdp_listen_port) ?? null;
    try {
      await updateServer(
        deps.sql,
        s.name,
        {
          address: v.address.trim() !== s.address ? v.address.trim() : undefined,
          sshPort: num(v.ssh_port) !== s.ssh_port ? num(v.ssh_port) : undefined,
          rdpPort: num(v.rdp_port) !== s.rdp_port ? num(v.rdp_port) : undefined,
          protocols: v.protocols !== s.protocols.join(",") ? v.protocols.split(",") : undefined,
          // unchanged text keeps the allocation; empty means none
          poolIp: poolIp === (s.pool_ip ?? "") ? undefined : poolIp === "" ? "none" : poolIp,
          rdpListenPort: listen !== s.rdp_listen_port ? listen : undefined,
          rdpSecurity: v.rdp_security && v.rdp_security !== s.rdp_security ? v.rdp_security : undefined,
          passwordPassthrough: !!v.password_passthrough !== s.password_passthrough
            ? !!v.password_passthrough
            : undefined,
          description: (v.description?.trim() || null) !== s.description ? v.description ?? "" : undefined,
          active: !!v.active !== s.active ? !!v.active : undefined,
        },
        byOf(c),
        pool,
        poolIp === (s.pool_ip ?? "") ? [] : await reservedPoolIps(),
      );
    } catch (e) {
      const fe = formErrorsOf(e, {}, FIELDS);
      if (!fe) throw e;
      return formPage(c, { values: v, errors: fe }, s, 400);
    }
    return c.redirect(`/servers/${encodeURIComponent(s.name)}?saved=1`, 303);
  });

  app.post("/:name/host-key/reset", async (c) => {
    const s = await updateServer(
      deps.sql,
      c.req.param("name"),
      { hostKey: null },
      byOf(c),
      pool,
    );
    return c.redirect(`/servers/${encodeURIComponent(s.name)}?reset=1`, 303);
  });

  app.post("/:name/rdp-cert/reset", async (c) => {
    const s = await updateServer(deps.sql, c.req.param("name"), { rdpCertSha256: null }, byOf(c), pool);
    return c.redirect(`/servers/${encodeURIComponent(s.name)}?reset=1`, 303);
  });

  app.post("/:name/delete", async (c) => {
    const name = c.req.param("name");
    await deleteServerAndKey(deps.sql, deps.dataDir, name, byOf(c));
    return c.redirect(`/servers?deleted=${encodeURIComponent(name)}`, 303);
  });
  return app;
}
