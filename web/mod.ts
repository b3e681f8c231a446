// The web console's entry point for `jumphost serve`: createApp served on every configured address.
import { indexDirOf } from "../recorder/rdp_replay/index_store.ts";
import type { Config } from "../core/config.ts";
import { purgeConsoleSessions } from "../db/console_sessions.ts";
import { createApp } from "./app.ts";
import { resolveLimits } from "./auth.ts";
import { mp4CacheDir } from "../recorder/convert/cache.ts";
import type { WebDeps } from "./deps.ts";
import { createOidcClient } from "./oidc/client.ts";

export { createApp } from "./app.ts";
export type { ListenerStatus, LogLevel, WebDeps } from "./deps.ts";

export interface WebServer {
  /** the bound addresses (port 0 in the config becomes the real port) */
  addresses: { hostname: string; port: number }[];
  stop(): Promise<void>;
}

export async function startWeb(
  config:
    & Pick<Config, "webListen" | "webTlsCert" | "webTlsKey" | "recordingsDir" | "ipPool" | "dataDir">
    & Partial<Pick<Config, "consoleMfa" | "trustedSigners" | "ldap" | "oidc" | "trustedProxies">>,
  deps:
    & Omit<WebDeps, "secureCookies" | "recordingsDir" | "ipPool">
    & Partial<Pick<WebDeps, "secureCookies" | "recordingsDir" | "ipPool">>,
): Promise<WebServer> {
  const tls = config.webTlsCert && config.webTlsKey
    ? { cert: await Deno.readTextFile(config.webTlsCert), key: await Deno.readTextFile(config.webTlsKey) }
    : null;
  const full: WebDeps = {
    ...deps,
    secureCookies: deps.secureCookies ?? tls !== null,
    recordingsDir: deps.recordingsDir ?? config.recordingsDir,
    ipPool: deps.ipPool ?? config.ipPool,
    mp4Dir: deps.mp4Dir ?? mp4CacheDir(config.dataDir),
    rdpIndexDir: deps.rdpIndexDir ?? indexDirOf(config.dataDir),
    dataDir: deps.dataDir ?? config.dataDir,
    trustedSigners: deps.trustedSigners ?? config.trustedSigners ?? null,
    consoleMfa: deps.consoleMfa ?? config.consoleMfa ?? "optional",
    trustedProxies: deps.trustedProxies ?? config.trustedProxies ?? [],
    directory: deps.directory ?? config.ldap ?? null,
    oidc: deps.oidc ?? (config.oidc ? createOidcClient(config.oidc) : null),
  };
  if (full.oidc) discoverAtStart(full);
  const app = createApp(full);
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const ac = new AbortController();
  try {
    for (const l of config.webListen) {
      const s = Deno.serve({
        hostname: l.host,
        port: l.port,
        signal: ac.signal,
        onListen: () => {},
        ...(tls ?? {}),
        onError: (e) => {
          full.log("error", `web: ${e instanceof Error ? e.message : String(e)}`);
          return new Response("internal error", { status: 500 });
        },
      }, (req, info) => {
        // Deno builds the request URL from the Host header; a Host no URL can hold is the client's error
        try {
          new URL(req.url);
        } catch {
          return new Response("bad Host header\n", {
            status: 400,
            headers: { "Content-Type": "text/plain" },
          });
        }
        return app.fetch(req, { remoteAddr: info.remoteAddr });
      });
      servers.push(s);
      full.log("info", `web console listening on ${tls ? "https" : "http"}://${fmt(s.addr)}`);
    }
  } catch (e) {
    ac.abort();
    await Promise.allSettled(servers.map((s) => s.finished));
    throw e;
  }
  // expired console sessions are removed in the background as well as on use
  const limits = resolveLimits(deps.limits);
  const purge = setInterval(() => {
    purgeConsoleSessions(full.sql, (full.now ?? (() => new Date()))(), limits).catch((e) =>
      full.log("warn", `web: purging console sessions: ${(e as Error).message}`)
    );
  }, 10 * 60_000);
  return {
    addresses: servers.map((s) => ({ hostname: s.addr.hostname, port: s.addr.port })),
    async stop() {
      clearInterval(purge);
      await Promise.all(servers.map((s) => s.shutdown()));
    },
  };
}

function fmt(a: Deno.NetAddr): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/**
 * Single sign-on: discover the provider now so a wrong issuer shows in the log at start. Not awaited: an
 * unreachable provider must not hold the console up (local accounts keep working); a sign-in retries.
 */
function discoverAtStart(deps: WebDeps): void {
  const c = deps.oidc!;
  c.ready().then(
    () => deps.log("info", `single sign-on: OpenID provider ${c.config.issuer} discovered`),
    (e) =>
      deps.log(
        "error",
        `single sign-on: ${
          (e as Error).message
        }; the "Sign in with ${c.config.providerName}" button answers ` +
          "that it is unavailable until the provider answers (retried at each sign-in); local accounts work",
      ),
  );
}
