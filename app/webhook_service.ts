// serve's webhook deliveries: every few seconds, the due deliveries of the outbox (db/webhooks.ts) are
// claimed (SKIP LOCKED: any node may deliver, each once) and POSTed, signed with the endpoint's secret;
// failures are retried with backoff (core/webhook_format.ts) and every attempt is logged in the outbox.
import type { Sql } from "../db/client.ts";
import { type Delivery, webhookPurpose, withDueDeliveries } from "../db/webhooks.ts";
import { openText, type SecretKey } from "../core/secret_box.ts";
import { type AuditPayload, deliveryBody, retryDelayMs, signBody } from "../core/webhook_format.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import type { ServeDeps, Service } from "./service.ts";

export interface DeliverOptions {
  /** the first retry's delay (doubling after); tests shorten it */
  retryBaseMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

async function post(d: Delivery, key: SecretKey, o: DeliverOptions) {
  const t0 = performance.now();
  try {
    const body = deliveryBody(d.event, d.payload as unknown as AuditPayload);
    const ts = Math.floor((o.now?.() ?? Date.now()) / 1000);
    const secret = openText(key, d.secret_sealed, webhookPurpose(d.webhook_id));
    const res = await fetch(d.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "jumphost-webhook",
        "X-Jumphost-Event": d.event,
        "X-Jumphost-Delivery": String(d.id),
        "X-Jumphost-Timestamp": String(ts),
        "X-Jumphost-Signature": signBody(secret, ts, body),
      },
      body,
    });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return { ok, status: res.status, error: ok ? null : `HTTP ${res.status}`, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, status: null, error: (e as Error).message, ms: performance.now() - t0 };
  }
}

/** One round: delivers what is due now; returns how many were attempted. */
export async function deliverDue(sql: Sql, key: SecretKey, o: DeliverOptions = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await withDueDeliveries(sql, 10, (d) => post(d, key, o), (attempts) => {
      const delay = retryDelayMs(attempts, o.retryBaseMs);
      return delay === null ? null : new Date((o.now?.() ?? Date.now()) + delay);
    }, new Date(o.now?.() ?? Date.now()));
    total += n;
    if (n < 10) return total;
  }
}

export function startWebhookService(d: ServeDeps): Promise<Service> {
  const log = d.log.child("webhooks");
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const key = loadApplianceKey(d.config.dataDir);
  const tick = () => {
    running = (async () => {
      try {
        const n = await deliverDue(d.sql, await key);
        if (n) log.debug("webhook deliveries attempted", { count: n });
      } catch (e) {
        log.warn("webhook delivery round failed", { error: (e as Error).message });
      }
    })();
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, 3000);
  return Promise.resolve({
    name: "webhooks",
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  });
}
