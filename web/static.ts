// Static assets compiled into the program from npm packages and web/static/: the appliance needs no CDN.
import type { Hono } from "hono";
import { createHash } from "node:crypto";
import htmx from "htmx.org/dist/htmx.min.js" with { type: "bytes" };
import htmxSse from "htmx.org/dist/ext/sse.js" with { type: "bytes" };
import xtermJs from "@xterm/xterm/lib/xterm.js" with { type: "bytes" };
import xtermCss from "@xterm/xterm/css/xterm.css" with { type: "bytes" };
import playerJs from "asciinema-player/dist/bundle/asciinema-player.min.js" with { type: "bytes" };
import playerCss from "asciinema-player/dist/bundle/asciinema-player.css" with { type: "bytes" };
import appCss from "./static/app.css" with { type: "bytes" };
import appJs from "./static/app.js" with { type: "bytes" };
import passkeysJs from "./static/passkeys.js" with { type: "bytes" };
// built from web/player/ by `deno task bundle:player` (committed; tests/rdp_player_bundle_test.ts checks it)
import rdpPlayerJs from "./static/rdp_player.js" with { type: "bytes" };
import type { AppEnv } from "./deps.ts";

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

function asset(body: Uint8Array, type: string): Asset {
  const etag = createHash("sha256").update(body).digest("base64url").slice(0, 16);
  return { body, type, etag };
}

const ASSETS: Record<string, Asset> = {
  "htmx.min.js": asset(htmx, JS),
  "htmx-sse.js": asset(htmxSse, JS),
  "xterm.js": asset(xtermJs, JS),
  "xterm.css": asset(xtermCss, CSS),
  "asciinema-player.min.js": asset(playerJs, JS),
  "asciinema-player.css": asset(playerCss, CSS),
  "app.css": asset(appCss, CSS),
  "app.js": asset(appJs, JS),
  "passkeys.js": asset(passkeysJs, JS),
  "rdp_player.js": asset(rdpPlayerJs, JS),
};

/** A URL that changes with the content, so browsers may cache it forever. */
export function assetUrl(name: keyof typeof ASSETS | string): string {
  const a = ASSETS[name];
  if (!a) throw new Error(`unknown static asset ${name}`);
  return `/static/${name}?v=${a.etag}`;
}

export function mountStatic(app: Hono<AppEnv>): void {
  app.get("/static/:name", (c) => {
    const a = ASSETS[c.req.param("name")];
    if (!a) return c.notFound();
    const etag = `"${a.etag}"`;
    c.header("ETag", etag);
    c.header(
      "Cache-Control",
      c.req.query("v") === a.etag ? "public, max-age=31536000, immutable" : "no-cache",
    );
    c.header("X-Content-Type-Options", "nosniff");
    if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
    c.header("Content-Type", a.type);
    return c.body(a.body as Uint8Array<ArrayBuffer>);
  });
}
