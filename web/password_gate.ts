// Forced password change: an account whose password someone else set (admin add, a reset) may only reach
// its own account page and the password form until it has chosen its own; logging out stays possible.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./deps.ts";
import { errorPage } from "./errors.tsx";

export const ACCOUNT_PAGE = "/account";
const ALLOWED = new Set(["GET /account", "HEAD /account", "POST /account/password"]);

/** Runs after requireSession: pages redirect to /account, htmx gets HX-Redirect, the rest a 403. */
export function requireOwnPassword(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const s = c.get("session");
    if (!s.mustChangePassword || ALLOWED.has(`${c.req.method} ${c.req.path}`)) {
      return await next();
    }
    if (c.req.header("HX-Request")) {
      c.header("HX-Redirect", ACCOUNT_PAGE);
      return c.body(null, 403);
    }
    if (c.req.header("Accept") === "text/event-stream") {
      return c.text("choose your own password first", 403);
    }
    if (c.req.method === "GET") return c.redirect(ACCOUNT_PAGE, 303);
    return errorPage(
      c,
      403,
      "Your password was set by an administrator: choose your own on your account page first.",
    );
  };
}
