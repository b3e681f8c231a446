// What a webhook delivery looks like on the wire, pure: the JSON body (with a Slack-compatible `text`), its
// HMAC-SHA256 signature over "<timestamp>.<body>", and the retry schedule.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface AuditPayload {
  id?: number;
  action: string;
  actor?: string;
  target?: string | null;
  source_ip?: string | null;
  success?: boolean;
  details?: Record<string, unknown>;
  at?: string;
  node?: string | null;
}

/** One line a chat channel shows: what happened, to what, by whom, from where. */
export function slackText(p: AuditPayload): string {
  const parts = [`jumphost: ${p.action}${p.success === false ? " (failed)" : ""}`];
  if (p.target) parts.push(`target ${p.target}`);
  if (p.actor) parts.push(`by ${p.actor}`);
  if (p.source_ip) parts.push(`from ${p.source_ip}`);
  // access requests: whose, for what and how long, so an approver can act from the chat line alone
  const d = p.details ?? {};
  if (typeof d.user === "string" && typeof d.server === "string") parts.push(`${d.user} → ${d.server}`);
  if (typeof d.minutes === "number") parts.push(`${d.minutes} min`);
  const reason = p.details?.reason;
  if (typeof reason === "string") parts.push(`reason ${reason}`);
  if (p.node) parts.push(`on ${p.node}`);
  return parts.join(", ");
}

export function deliveryBody(event: string, p: AuditPayload): string {
  return JSON.stringify({ text: slackText(p), event, audit: p });
}

/** The X-Jumphost-Signature value: "sha256=" + hex HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signBody(secret: string, timestamp: number, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** How a receiver checks a delivery (also what the README shows). */
export function verifySignature(secret: string, timestamp: number, body: string, header: string): boolean {
  const want = new TextEncoder().encode(signBody(secret, timestamp, body));
  const got = new TextEncoder().encode(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

export const MAX_ATTEMPTS = 10;

/** Delay before attempt n+1 after n failed ones: 10 s, 20 s, 40 s … capped at 1 h; null = give up. */
export function retryDelayMs(attempts: number, baseMs = 10_000): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  return Math.min(baseMs * 2 ** (attempts - 1), 3600_000);
}
