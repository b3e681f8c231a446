// What every route module gets from createApp, and the role guard they share.
import type { MiddlewareHandler } from "hono";
import type { Actor } from "../../db/audit_events.ts";
import { type AuthLimits, can, clientIp, type Permission } from "../auth.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { forbidden } from "../errors.tsx";
import type { OpenStreams } from "../session_watch.ts";

export interface RouteCtx {
  deps: WebDeps;
  now: () => Date;
  limits: AuthLimits;
  /** open long-lived responses, ended when their console session ends */
  streams: OpenStreams;
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

type Ctx = Parameters<MiddlewareHandler<AppEnv>>[0];

/** Who made a console change and the client address it came from, for the audit row. */
export function byOf(c: Ctx): Actor {
  return { actor: actorOf(c.get("session")), sourceIp: clientIp(c) };
}

/** Form fields as strings (the last of repeated fields; files ignored). */
export async function formOf(c: Ctx): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (typeof last === "string" && k !== "_csrf") out[k] = last;
  }
  return out;
}

/** Every value of a repeated field (checkbox groups). */
export async function formList(c: Ctx, name: string): Promise<string[]> {
  const v = (await c.req.parseBody({ all: true }))[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string =>
    typeof x === "string"
  );
}

/** Splits a textarea into trimmed non-empty lines. */
export function lines(text: string | undefined): string[] {
  return (text ?? "").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}
