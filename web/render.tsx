// One render helper: the full page normally, only the content for htmx requests (convention 9).
import type { Context } from "hono";
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "./views/layout.tsx";
import type { AppEnv } from "./deps.ts";

export interface PageOptions {
  status?: 200 | 400 | 401 | 403 | 404 | 409 | 422 | 429 | 500 | 503;
  scripts?: string[];
  styles?: string[];
}

export function htmlResponse(c: Context<AppEnv>, node: VNode, status = 200): Response {
  c.header("Content-Type", "text/html; charset=utf-8");
  c.header("Cache-Control", "no-store");
  return c.body("<!doctype html>" + renderToString(node), status as 200);
}

export function fragment(c: Context<AppEnv>, node: VNode, status = 200): Response {
  c.header("Content-Type", "text/html; charset=utf-8");
  c.header("Cache-Control", "no-store");
  return c.body(renderToString(node), status as 200);
}

export function isHtmx(c: Context<AppEnv>): boolean {
  return c.req.header("HX-Request") === "true" && c.req.header("HX-Boosted") !== "true";
}

export function page(c: Context<AppEnv>, title: string, body: VNode, opts: PageOptions = {}): Response {
  if (isHtmx(c)) return fragment(c, body, opts.status);
  const session = c.get("session") ?? null;
  return htmlResponse(
    c,
    <Layout
      title={title}
      session={session}
      held={c.get("mfaHeld") ?? false}
      dbDownSince={c.get("dbDownSince") ?? null}
      path={new URL(c.req.url).pathname}
      scripts={opts.scripts}
      styles={opts.styles}
    >
      {body}
    </Layout>,
    opts.status,
  );
}
