// /access: "explain access" — the same decision as `jumphost access check` (db/access.ts explainAccess).
import { type Context, Hono } from "hono";
import { isPolicyLogin } from "../../policy/policy_login.ts";
import { explainAccess } from "../../db/access.ts";
import { writeAudit } from "../../db/audit.ts";
import { listServers } from "../../db/servers.ts";
import { type Explanation, normalizeIp, PolicyInputError } from "../../policy/mod.ts";
import { clientIp } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { page } from "../render.tsx";
import { parseUtc } from "../query.ts";
import { ExplainPage } from "../views/access_views.tsx";
import { actorOf, formOf, need, type RouteCtx } from "./ctx.ts";

export function accessRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));

  const render = async (
    c: Context<AppEnv>,
    values: Record<string, string>,
    errors: Record<string, string>,
    result?: { ex: Explanation; at: Date },
  ) => {
    const servers = (await listServers(deps.sql)).map((s) => s.name);
    return page(
      c,
      "Explain access",
      <ExplainPage
        form={{ values, errors }}
        servers={servers}
        csrf={c.get("session").csrfToken}
        result={result}
      />,
      {
        status: Object.keys(errors).length ? 400 : 200,
      },
    );
  };

  app.get("/", (c) => render(c, { protocol: "ssh" }, {}));

  app.post("/", async (c) => {
    const v = await formOf(c);
    const errors: Record<string, string> = {};
    let sourceIp = "";
    try {
      sourceIp = normalizeIp((v.source_ip ?? "").trim());
    } catch (e) {
      if (!(e instanceof PolicyInputError)) throw e;
      errors.source_ip = "an IPv4 or IPv6 address";
    }
    if (!v.server) errors.server = "required";
    if (v.protocol !== "ssh" && v.protocol !== "rdp") errors.protocol = "choose SSH or RDP";
    const login = v.login?.trim() || undefined;
    if (login && !isPolicyLogin(login)) errors.login = "not a valid account name";
    const at = v.at?.trim() ? parseUtc(v.at) : now();
    if (!at) errors.at = "use YYYY-MM-DDTHH:MM (UTC), or leave empty for now";
    if (Object.keys(errors).length) return render(c, v, errors);
    const ex = await explainAccess(
      deps.sql,
      { sourceIp, serverName: v.server, protocol: v.protocol as "ssh", login },
      at!,
      { userName: v.user?.trim() || undefined },
    );
    await writeAudit(deps.sql, {
      actor: actorOf(c.get("session")),
      action: "access.check",
      target: v.server,
      sourceIp: clientIp(c),
      success: true,
      details: {
        source_ip: sourceIp,
        protocol: v.protocol,
        login: login ?? null,
        allowed: ex.decision.allowed,
      },
    }, deps.nodeId);
    return render(c, v, {}, { ex, at: at! });
  });
  return app;
}
