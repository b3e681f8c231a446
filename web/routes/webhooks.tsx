// /webhooks (admins): the outbound webhook endpoints (db/webhooks.ts), adding one (its secret write-only,
// sealed with the appliance secret), removing one, and the delivery log. Every change audited.
import { type Context, Hono } from "hono";
import {
  addWebhook,
  deliveryLog,
  type DeliveryLogRow,
  listWebhooks,
  redactUrl,
  removeWebhook,
  type WebhookRow,
} from "../../db/webhooks.ts";
import { InputError } from "../../db/errors.ts";
import type { AppEnv } from "../deps.ts";
import { page } from "../render.tsx";
import { applianceKeyOf } from "../secret.ts";
import { Csrf, Empty, Field, Flash, FormError, type FormState, PostButton, Time } from "../views/parts.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";

function WebhooksPage(
  p: { hooks: WebhookRow[]; log: DeliveryLogRow[]; form: FormState; csrf: string; flash?: string },
) {
  return (
    <>
      <h1>Webhooks</h1>
      <p>
        Signed JSON POSTs for audit events (README, "Webhooks"): an audit action such as{" "}
        <code>session.kill</code>, a prefix ending in a dot such as <code>system.</code>, or{" "}
        <code>security.denial_burst</code>.
      </p>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <table id="webhooks">
        <thead>
          <tr>
            <th>Id</th>
            <th>URL</th>
            <th>Events</th>
            <th>Added</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.hooks.length === 0 ? <Empty cols={5} /> : null}
          {p.hooks.map((h) => (
            <tr>
              <td>{h.id}</td>
              <td class="mono">{redactUrl(h.url)}</td>
              <td>{h.events.join(", ")}</td>
              <td>
                <Time at={h.created_at} /> by {h.created_by}
              </td>
              <td>
                <PostButton
                  action={`/webhooks/${h.id}/delete`}
                  csrf={p.csrf}
                  label="Remove"
                  danger
                  confirm={`Remove webhook ${h.id}?`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="panel">
        <h2>Add a webhook</h2>
        <FormError form={p.form} />
        <form method="post" action="/webhooks" id="webhook-form">
          <Csrf token={p.csrf} />
          <Field form={p.form} name="url" label="URL (http or https)" required />
          <Field
            form={p.form}
            name="events"
            label="Events (comma-separated)"
            placeholder="session.kill, system."
            required
          />
          <Field
            form={p.form}
            name="secret"
            label="Secret (at least 16 characters; shown never again)"
            type="password"
            autocomplete="new-password"
            required
          />
          <button type="submit" id="webhook-add">Add</button>
        </form>
      </div>
      <h2>Deliveries</h2>
      <table id="webhook-log">
        <thead>
          <tr>
            <th>Id</th>
            <th>Webhook</th>
            <th>Event</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Last answer</th>
            <th>Created (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {p.log.length === 0 ? <Empty cols={7} /> : null}
          {p.log.map((d) => (
            <tr>
              <td>{d.id}</td>
              <td>{d.webhook_id}</td>
              <td>{d.event}</td>
              <td>{d.delivered_at ? "delivered" : d.failed_at ? "gave up" : "pending"}</td>
              <td>{d.attempts}</td>
              <td>{d.last_status ?? d.last_error ?? ""}{d.last_ms !== null ? ` (${d.last_ms} ms)` : ""}</td>
              <td>
                <Time at={d.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function webhookRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("console_users"));
  const render = async (c: Context<AppEnv>, form: FormState, status: 200 | 400 = 200, flash?: string) =>
    page(
      c,
      "Webhooks",
      <WebhooksPage
        hooks={await listWebhooks(deps.sql)}
        log={await deliveryLog(deps.sql, undefined, 50)}
        form={form}
        csrf={c.get("session").csrfToken}
        flash={flash}
      />,
      { status },
    );
  app.get("/", (c) => render(c, { values: {}, errors: {} }, 200, c.req.query("done") ?? undefined));
  app.post("/", async (c) => {
    const f = await formOf(c);
    const values = { url: f.url ?? "", events: f.events ?? "" };
    try {
      const w = await addWebhook(deps.sql, await applianceKeyOf(deps), {
        url: values.url.trim(),
        events: values.events.split(","),
        secret: f.secret ?? "",
      }, byOf(c));
      return c.redirect(`/webhooks?done=${encodeURIComponent(`Webhook ${w.id} added.`)}`, 303);
    } catch (e) {
      if (e instanceof InputError) return render(c, { values, errors: { [e.field]: e.message } }, 400);
      throw e;
    }
  });
  app.post("/:id/delete", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id)) {
      return render(c, { values: {}, errors: { _form: "no such webhook" } }, 400);
    }
    await removeWebhook(deps.sql, id, byOf(c));
    return c.redirect(`/webhooks?done=${encodeURIComponent(`Webhook ${id} removed.`)}`, 303);
  });
  return app;
}
