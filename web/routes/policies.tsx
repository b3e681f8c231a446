// /policies: list with status filters, the creation wizard, detail, revoke with reason, delete.
import { type Context, Hono } from "hono";
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  listPolicies,
  type PolicyStatusFilter,
  revokePolicy,
} from "../../db/policies.ts";
import { listGroups } from "../../db/groups.ts";
import { listServers } from "../../db/servers.ts";
import { listUsers } from "../../db/users.ts";
import { InputError, NotFoundError } from "../../db/errors.ts";
import type { AppEnv } from "../deps.ts";
import { notFound } from "../errors.tsx";
import { page } from "../render.tsx";
import { reader } from "../query.ts";
import {
  type Answers,
  type Choices,
  firstInvalidStep,
  stepOfField,
  STEPS,
  toPolicyInput,
  validateStep,
} from "../policy_wizard.ts";
import { PolicyWizard } from "../views/policy_wizard_view.tsx";
import { PolicyDetail, PolicyList } from "../views/policy_views.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";

const STATUSES: readonly PolicyStatusFilter[] = ["active", "pending", "expired", "revoked", "all"];
const NOT_FOUND_FIELD: Record<string, string> = {
  user: "subject",
  "user group": "subject",
  server: "scope",
  "server group": "scope",
};

function policyId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw notFound("policy");
  return Number(text);
}

export function policyRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));

  const choices = async (): Promise<Choices> => {
    const [users, userGroups, servers, serverGroups] = await Promise.all([
      listUsers(deps.sql, { limit: 5000 }),
      listGroups(deps.sql, "user"),
      listServers(deps.sql),
      listGroups(deps.sql, "server"),
    ]);
    return {
      users: users.map((u) => u.name),
      userGroups: userGroups.map((g) => g.name),
      servers: servers.map((s) => ({ name: s.name, protocols: s.protocols })),
      serverGroups: serverGroups.map((g) => g.name),
    };
  };
  const wizard = (
    c: Context<AppEnv>,
    step: number,
    values: Answers,
    errors: Record<string, string>,
    ch: Choices,
  ) =>
    page(
      c,
      "New policy",
      <PolicyWizard
        step={step}
        form={{ values, errors }}
        ch={ch}
        csrf={c.get("session").csrfToken}
        now={now()}
      />,
      {
        status: Object.keys(errors).length ? 400 : 200,
      },
    );
  const detail = async (c: Context<AppEnv>, id: number, error?: string, flash?: string) =>
    page(
      c,
      `Policy #${id}`,
      <PolicyDetail
        p={await getPolicy(deps.sql, id)}
        csrf={c.get("session").csrfToken}
        error={error}
        flash={flash}
      />,
      {
        status: error ? 400 : 200,
      },
    );

  app.get("/", async (c) => {
    const r = reader(c.req.query());
    const status = r.oneOf("status", STATUSES) ?? "all";
    const user = r.str("user", 64), server = r.str("server", 64);
    const rows = Object.keys(r.errors).length
      ? []
      : await listPolicies(deps.sql, { status, user, server, limit: 1000 });
    const deleted = c.req.query("deleted");
    return page(
      c,
      "Policies",
      <PolicyList
        rows={rows}
        values={r.values}
        errors={r.errors}
        flash={deleted ? `Policy #${deleted} deleted.` : undefined}
      />,
    );
  });

  app.get("/new", async (c) => {
    const q = c.req.query();
    const values: Answers = {
      subject_kind: q.subject_kind === "user_group" ? "user_group" : "user",
      subject: q.subject ?? "",
      scope_kind: ["server", "server_group", "server_protocol"].includes(q.scope_kind ?? "")
        ? q.scope_kind
        : "server_group",
      scope: q.scope ?? "",
      validity_mode: "duration",
      duration_minutes: "60",
    };
    return wizard(c, 0, values, {}, await choices());
  });

  app.post("/new", async (c) => {
    const { step: stepText, go, ...a } = await formOf(c);
    const step = Math.min(Math.max(Number.parseInt(stepText ?? "0", 10) || 0, 0), STEPS.length - 1);
    const ch = await choices();
    if (go === "back") return wizard(c, Math.max(0, step - 1), a, {}, ch);
    if (go !== "create") {
      const errors = validateStep(step, a, ch, now());
      return wizard(c, Object.keys(errors).length ? step : step + 1, a, errors, ch);
    }
    const bad = firstInvalidStep(STEPS.length - 2, a, ch, now());
    if (bad.step >= 0) return wizard(c, bad.step, a, bad.errors, ch);
    try {
      const p = await createPolicy(deps.sql, toPolicyInput(a, now()), byOf(c));
      return c.redirect(`/policies/${p.id}?created=1`, 303);
    } catch (e) {
      if (e instanceof InputError) {
        return wizard(c, stepOfField(e.field), a, {
          [stepOfField(e.field) === STEPS.length - 1 ? "_form" : e.field]: e.message,
        }, ch);
      }
      if (e instanceof NotFoundError) {
        const f = NOT_FOUND_FIELD[e.what] ?? "_form";
        return wizard(c, f === "_form" ? STEPS.length - 1 : stepOfField(f), a, { [f]: e.message }, ch);
      }
      throw e;
    }
  });

  app.get("/:id", (c) => {
    const q = c.req.query();
    return detail(
      c,
      policyId(c.req.param("id")),
      undefined,
      q.created ? "Policy created." : q.revoked ? "Policy revoked." : undefined,
    );
  });

  app.post("/:id/revoke", async (c) => {
    const id = policyId(c.req.param("id"));
    const reason = ((await formOf(c)).reason ?? "").trim().slice(0, 500);
    try {
      await revokePolicy(deps.sql, id, byOf(c), reason || null);
    } catch (e) {
      if (e instanceof InputError) return detail(c, id, e.message);
      throw e;
    }
    return c.redirect(`/policies/${id}?revoked=1`, 303);
  });

  app.post("/:id/delete", async (c) => {
    const id = policyId(c.req.param("id"));
    await deletePolicy(deps.sql, id, byOf(c));
    return c.redirect(`/policies?deleted=${id}`, 303);
  });
  return app;
}
