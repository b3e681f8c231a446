// /requests: the queue of just-in-time access requests (db/access_requests.ts). The queue table refreshes itself
// by htmx polling; deciding happens on a request's own page (approve: shorter minutes, fewer logins, a note;
// deny: a reason), so a refresh never wipes a half-typed form. Every console role may look; whether this
// console user may decide (admin, operator, or a named approver; never their own request) is the same rule as
// the CLI's (policy/access_request.ts). /requests/badge is the pending count in the navigation.
import { type Context, Hono } from "hono";
import {
  type AccessRequestRow,
  countPendingRequests,
  expireDueRequests,
  getAccessRequest,
  listAccessRequests,
} from "../../db/access_requests.ts";
import { approveAccessRequest, denyAccessRequest } from "../../db/access_request_decisions.ts";
import { InputError, NotFoundError } from "../../db/errors.ts";
import { clampMinutes, mayDecide } from "../../policy/access_request.ts";
import type { AppEnv } from "../deps.ts";
import { fragment, page } from "../render.tsx";
import { RequestDetail, RequestQueue, RequestsPage } from "../views/request_views.tsx";
import type { FormState } from "../views/parts.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";

export function requestRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));

  const queue = async () => {
    await expireDueRequests(deps.sql);
    return await listAccessRequests(deps.sql, { pending: true, limit: 500 });
  };

  app.get("/", async (c) => {
    const pending = await queue();
    const recent = (await listAccessRequests(deps.sql, { limit: 100 })).filter((r) => r.state !== "pending")
      .slice(0, 50);
    return page(
      c,
      "Requests",
      <RequestsPage pending={pending} recent={recent} flash={c.req.query("done") ?? undefined} />,
    );
  });
  app.get("/queue", async (c) => fragment(c, <RequestQueue pending={await queue()} />));
  app.get("/badge", async (c) => {
    const n = await countPendingRequests(deps.sql);
    return c.text(n > 0 ? String(n) : "");
  });

  const idOf = (c: Context<AppEnv>) => {
    const text = c.req.param("id") ?? "";
    if (!/^\d{1,12}$/.test(text)) throw new NotFoundError("request", text.slice(0, 20));
    return Number(text);
  };

  const detail = (
    c: Context<AppEnv>,
    r: AccessRequestRow,
    form: FormState,
    status: 200 | 400 = 200,
  ) => {
    const s = c.get("session");
    const may = mayDecide({ userName: r.user_name, approvers: r.approvers }, {
      approver: s.userName,
      role: s.role,
    });
    return page(
      c,
      `Request ${r.id}`,
      <RequestDetail
        r={r}
        csrf={s.csrfToken}
        form={form}
        mayDecide={may.ok ? null : may.message}
        maxMinutes={clampMinutes(r.minutes, r.max_minutes)}
      />,
      { status },
    );
  };

  app.get("/:id", async (c) => {
    await expireDueRequests(deps.sql);
    return detail(c, await getAccessRequest(deps.sql, idOf(c)), { values: {}, errors: {} });
  });

  app.post("/:id/approve", async (c) => {
    const id = idOf(c);
    const f = await formOf(c);
    const values = { minutes: f.minutes ?? "", logins: f.logins ?? "", note: f.note ?? "" };
    try {
      const minutes = values.minutes.trim() === "" ? undefined : Number(values.minutes);
      if (minutes !== undefined && !Number.isInteger(minutes)) {
        throw new InputError("minutes", "minutes: a whole number");
      }
      const logins = values.logins.split(",").map((l) => l.trim()).filter(Boolean);
      const r = await approveAccessRequest(deps.sql, id, {
        approver: c.get("session").userName,
        minutes,
        logins: logins.length ? logins : undefined,
        note: values.note,
      }, byOf(c));
      const done = r.state === "approved"
        ? `Request ${id} approved: ${r.granted_minutes} min as ${
          r.granted_logins?.join(", ")
        } (policy ${r.policy_id}).`
        : `Request ${id}: approval ${r.approvals.length} of ${r.approvals_needed} recorded.`;
      return c.redirect(`/requests?done=${encodeURIComponent(done)}`, 303);
    } catch (e) {
      if (e instanceof InputError) {
        return detail(c, await getAccessRequest(deps.sql, id), {
          values,
          errors: { _form: e.message },
        }, 400);
      }
      throw e;
    }
  });

  app.post("/:id/deny", async (c) => {
    const id = idOf(c);
    const f = await formOf(c);
    const values = { reason: f.reason ?? "" };
    try {
      await denyAccessRequest(
        deps.sql,
        id,
        { approver: c.get("session").userName, reason: values.reason },
        byOf(c),
      );
      return c.redirect(`/requests?done=${encodeURIComponent(`Request ${id} denied.`)}`, 303);
    } catch (e) {
      if (e instanceof InputError) {
        return detail(
          c,
          await getAccessRequest(deps.sql, id),
          { values, errors: { _form: e.message } },
          400,
        );
      }
      throw e;
    }
  });
  return app;
}
