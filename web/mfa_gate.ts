// Enforced second factor: with console_mfa = required, or for an account marked mfa_required, a console
// session whose account has no active TOTP factor nor a passkey may only reach its own account page (to enrol) and its
// password form until it has one; logging out stays possible. Runs after requireOwnPassword. Single sign-on
// accounts are exempt while oidc_trust_mfa is on (the provider does their second factor).
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./deps.ts";
import { errorPage } from "./errors.tsx";
import { ACCOUNT_PAGE } from "./password_gate.ts";

const ALLOWED = new Set([
  "GET /account",
  "HEAD /account",
  "POST /account/password",
  "POST /account/totp/enrol",
  "POST /account/totp/confirm",
  "POST /account/passkeys/options",
  "POST /account/passkeys",
]);

export function requireMfaEnrolment(
  consoleMfa: "required" | "optional",
  /** oidc_trust_mfa: single sign-on accounts get their second factor from the provider */
  trustSsoMfa = false,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const s = c.get("session");
    const needed = (consoleMfa === "required" || s.mfaRequired) && !(s.sso && trustSsoMfa);
    if (!needed || s.mfaEnrolled) return await next();
    if (ALLOWED.has(`${c.req.method} ${c.req.path}`)) {
      // the page shows no navigation: its links (and the polled badges) would only lead back here
      c.set("mfaHeld", true);
      return await next();
    }
    if (c.req.header("HX-Request")) {
      c.header("HX-Redirect", ACCOUNT_PAGE);
      return c.body(null, 403);
    }
    if (c.req.header("Accept") === "text/event-stream") return c.text("set up a second factor first", 403);
    if (c.req.method === "GET") return c.redirect(ACCOUNT_PAGE, 303);
    return errorPage(
      c,
      403,
      "A second factor is required: set up an authenticator on your account page first.",
    );
  };
}
