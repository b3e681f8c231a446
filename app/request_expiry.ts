// serve's `requests` service: pending access requests past their time become expired (audited
// request.expired, which webhooks subscribe to) even when nobody looks at the queue. Every node runs it; the
// UPDATE … WHERE state = 'pending' expires each request once.
import { expireDueRequests } from "../db/access_requests.ts";
import type { ServeDeps, Service } from "./service.ts";

export const REQUEST_EXPIRY_EVERY_MS = 30_000;

export function startRequestExpiry(d: ServeDeps, everyMs = REQUEST_EXPIRY_EVERY_MS): Promise<Service> {
  const log = d.log.child("requests");
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        const expired = await expireDueRequests(d.sql);
        if (expired.length) log.info("access requests expired", { ids: expired.map((r) => r.id) });
      } catch (e) {
        log.warn("expiring access requests failed", { error: (e as Error).message });
      }
    })();
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, everyMs);
  return Promise.resolve({
    name: "requests",
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  });
}
