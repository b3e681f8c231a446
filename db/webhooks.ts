// webhooks and webhook_deliveries (migration 015): endpoints, and the outbox a trigger on audit_log fills.
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { actorName, type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";
import { sealText, type SecretKey } from "../core/secret_box.ts";

export interface WebhookRow {
  id: number;
  url: string;
  events: string[];
  active: boolean;
  created_by: string;
  created_at: Date;
}

export const webhookPurpose = (id: number) => `webhook:${id}`;

/** An http(s) URL without credentials in it; anything else is refused with the reason. */
export function checkWebhookUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new InputError("url", `"${text.slice(0, 100)}" is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new InputError("url", "only http and https URLs");
  }
  if (u.username || u.password) throw new InputError("url", "put no credentials in the URL: use the secret");
  if (text.length > 2000) throw new InputError("url", "the URL is longer than 2000 characters");
  return u.toString();
}

/** Audit actions ("session.kill") or prefixes ending in a dot ("system."). */
export function checkWebhookEvents(list: string[]): string[] {
  const events = [...new Set(list.map((e) => e.trim()).filter((e) => e !== ""))];
  if (events.length === 0) {
    throw new InputError("events", "give at least one event (an audit action or prefix.)");
  }
  if (events.length > 50) throw new InputError("events", "at most 50 events");
  for (const e of events) {
    if (!/^[a-z_]+(\.[a-z_]*)?$/.test(e)) {
      throw new InputError("events", `"${e}" is not an audit action (session.kill) or prefix (system.)`);
    }
  }
  return events;
}

export async function addWebhook(
  sql: Sql,
  key: SecretKey,
  input: { url: string; events: string[]; secret: string },
  actor: ActorRef,
): Promise<WebhookRow> {
  const url = checkWebhookUrl(input.url);
  const events = checkWebhookEvents(input.events);
  if (input.secret.length < 16) throw new InputError("secret", "the secret must be at least 16 characters");
  return await sql.begin(async (tx) => {
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO webhooks (url, secret_sealed, events, created_by) VALUES (${url}, '-', ${events}, ${
      actorName(actor)
    })
      RETURNING id`;
    await tx`UPDATE webhooks SET secret_sealed = ${
      sealText(key, input.secret, webhookPurpose(id))
    } WHERE id = ${id}`;
    await writeAudit(
      tx,
      changeEvent(actor, "webhook.create", `webhook:${id}`, { url: redactUrl(url), events }),
    );
    const [row] = await tx<WebhookRow[]>`SELECT id, url, events, active, created_by, created_at FROM webhooks
      WHERE id = ${id}`;
    return row;
  }) as WebhookRow;
}

/** The URL as logged and audited: no query string (it may hold a token). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
}

export function listWebhooks(sql: Sql): Promise<WebhookRow[]> {
  return sql<WebhookRow[]>`SELECT id, url, events, active, created_by, created_at FROM webhooks ORDER BY id`;
}

export async function removeWebhook(sql: Sql, id: number, actor: ActorRef): Promise<void> {
  await sql.begin(async (tx) => {
    const [gone] = await tx<{ url: string }[]>`DELETE FROM webhooks WHERE id = ${id} RETURNING url`;
    if (!gone) throw new NotFoundError("webhook", String(id));
    await writeAudit(tx, changeEvent(actor, "webhook.delete", `webhook:${id}`, { url: redactUrl(gone.url) }));
  });
}

export interface Delivery {
  id: number;
  webhook_id: number;
  url: string;
  secret_sealed: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/** Claims up to `limit` due deliveries (others nodes skip them) and runs `send` for each inside the claim. */
export async function withDueDeliveries(
  sql: Sql,
  limit: number,
  send: (d: Delivery) => Promise<{ ok: boolean; status: number | null; error: string | null; ms: number }>,
  retryAt: (attempts: number) => Date | null,
  now: Date = new Date(),
): Promise<number> {
  return await sql.begin(async (tx) => {
    const due = await tx<Delivery[]>`
      SELECT d.id, d.webhook_id, w.url, w.secret_sealed, d.event, d.payload, d.attempts
      FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= ${now} AND w.active
      ORDER BY d.id LIMIT ${limit} FOR UPDATE OF d SKIP LOCKED`;
    for (const d of due) {
      const r = await send(d);
      const attempts = d.attempts + 1;
      const next = r.ok ? null : retryAt(attempts);
      await tx`UPDATE webhook_deliveries SET attempts = ${attempts}, last_status = ${r.status},
          last_error = ${r.error?.slice(0, 500) ?? null}, last_ms = ${Math.round(r.ms)},
          delivered_at = ${r.ok ? tx`now()` : null}, failed_at = ${!r.ok && next === null ? tx`now()` : null},
          next_attempt_at = ${next ?? new Date()}
        WHERE id = ${d.id}`;
    }
    return due.length;
  }) as number;
}

export interface DeliveryLogRow {
  id: number;
  webhook_id: number;
  event: string;
  attempts: number;
  delivered_at: Date | null;
  failed_at: Date | null;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  last_ms: number | null;
  created_at: Date;
}

export function deliveryLog(sql: Sql, webhookId?: number, limit = 100): Promise<DeliveryLogRow[]> {
  return sql<DeliveryLogRow[]>`
    SELECT id, webhook_id, event, attempts, delivered_at, failed_at, next_attempt_at, last_status, last_error,
      last_ms, created_at
    FROM webhook_deliveries ${webhookId !== undefined ? sql`WHERE webhook_id = ${webhookId}` : sql``}
    ORDER BY id DESC LIMIT ${Math.min(Math.max(limit, 1), 1000)}`;
}
