// What every route module gets from createApp, and the role guard they share.
import type { MiddlewareHandler } from "hono";
import { type AuthLimits, can, type Permission } from "../auth.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { forbidden } from "../errors.tsx";

export interface RouteCtx {
  deps: WebDeps;
  now: () => Date;
  limits: AuthLimits;
}

/** Refuses the request with 403 unless the session's role has the permission. */
export function need(p: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!can(c.get("session").role, p)) throw forbidden();
    await next();
  };
}

/** The actor recorded in the audit log for console changes. */
export function actorOf(session: { userName: string }): string {
  return `console:${session.userName}`;
}

/** Form fields as strings (files and repeated fields ignored except through `all`). */
export async function formOf(c: Parameters<MiddlewareHandler<AppEnv>>[0]): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string" && k !== "_csrf") out[k] = v;
  return out;
}
