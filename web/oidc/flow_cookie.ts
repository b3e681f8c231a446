// The browser's half of a sign-on in progress: state, nonce, PKCE verifier, redirect URL and where to go
// after, sealed with the appliance secret (so any node sharing the database can finish it) in a cookie that
// lives ten minutes and is read once. SameSite=Lax: the provider's redirect back is a cross-site navigation,
// which a Strict cookie would not accompany.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { openText, sealText, type SecretKey } from "../../core/secret_box.ts";
import type { FlowChecks } from "./client.ts";

const COOKIE = "jh_oidc_flow";
const PATH = "/login/oidc";
const PURPOSE = "console:oidc_flow";
export const FLOW_TTL_MS = 10 * 60_000;

export interface Flow extends FlowChecks {
  next: string;
  /** epoch ms after which the flow is refused */
  expires: number;
}

export function setFlowCookie(c: Context, key: SecretKey, secure: boolean, flow: Flow): void {
  setCookie(c, COOKIE, sealText(key, JSON.stringify(flow), PURPOSE), {
    path: PATH,
    httpOnly: true,
    secure,
    sameSite: "Lax",
    maxAge: FLOW_TTL_MS / 1000,
  });
}

/** The flow of this browser, or null when absent, altered, sealed with another key or expired; cleared. */
export function takeFlowCookie(c: Context, keys: SecretKey, secure: boolean, now: number): Flow | null {
  const raw = getCookie(c, COOKIE);
  if (raw === undefined) return null;
  deleteCookie(c, COOKIE, { path: PATH, secure });
  try {
    const f = JSON.parse(openText(keys, raw, PURPOSE)) as Flow;
    const fields = [f.state, f.nonce, f.verifier, f.redirectUrl, f.next];
    if (fields.some((v) => typeof v !== "string") || typeof f.expires !== "number") return null;
    return f.expires > now ? f : null;
  } catch {
    return null;
  }
}
