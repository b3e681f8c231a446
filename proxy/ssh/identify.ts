// Which server and backend login does a connection mean? Pure: over a policy snapshot, no I/O.
// Order (issue #3): (1) the local address the client connected to, when it is a server's pool IP;
// (2) a `login@server` user name; (3) the only server the user's policies allow.
import { findServerByPoolIp, type Server, serversAllowedFor, type Snapshot } from "../../policy/mod.ts";

export interface ParsedUsername {
  login: string;
  /** the part after the last '@', when there is one */
  serverName: string | null;
}

const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// OpenSSH accepts almost anything as a user name; we refuse control characters and absurd lengths
// deno-lint-ignore no-control-regex
const LOGIN = /^[^\x00-\x1f\x7f\s:/]{1,128}$/;

export function parseUsername(username: string): ParsedUsername {
  const at = username.lastIndexOf("@");
  if (at <= 0 || at === username.length - 1) return { login: username, serverName: null };
  const serverName = username.slice(at + 1);
  if (!SERVER_NAME.test(serverName)) return { login: username, serverName: null };
  return { login: username.slice(0, at), serverName };
}

export function isValidLogin(login: string): boolean {
  return LOGIN.test(login);
}

export type RouteHow = "pool_ip" | "name" | "only_server";

export type Route =
  | { ok: true; server: Server; login: string; how: RouteHow }
  | {
    ok: false;
    reason: "invalid_login" | "unknown_server" | "conflicting_target" | "no_server" | "ambiguous";
    detail: string;
  };

export interface RouteRequest {
  username: string;
  localIp: string;
  sourceIp: string;
  /** the jumphost user the credentials proved (disambiguates a shared source CIDR) */
  userName?: string;
}

export function chooseRoute(snapshot: Snapshot, req: RouteRequest, now: Date): Route {
  const parsed = parseUsername(req.username);
  const named = parsed.serverName === null ? undefined : snapshot.serversByName.get(parsed.serverName);
  const pool = findServerByPoolIp(snapshot, req.localIp);
  let route: Route;
  if (pool) {
    // a trailing @name is only the target when it names a server; otherwise it is part of the login
    if (named && named.id !== pool.id) {
      return {
        ok: false,
        reason: "conflicting_target",
        detail: `connected to pool IP ${req.localIp} of ${pool.name} but the user name names ${named.name}`,
      };
    }
    route = { ok: true, server: pool, login: named ? parsed.login : req.username, how: "pool_ip" };
  } else if (parsed.serverName !== null) {
    if (!named) {
      return {
        ok: false,
        reason: "unknown_server",
        detail: `no server named ${JSON.stringify(parsed.serverName)}`,
      };
    }
    route = { ok: true, server: named, login: parsed.login, how: "name" };
  } else {
    const allowed = serversAllowedFor(snapshot, req.sourceIp, "ssh", now, { userName: req.userName });
    if (allowed.length !== 1) {
      return allowed.length === 0
        ? {
          ok: false,
          reason: "no_server",
          detail: "no server given and no policy allows any SSH server now",
        }
        : {
          ok: false,
          reason: "ambiguous",
          detail: `no server given and ${allowed.length} servers are allowed: ${
            allowed.map((s) => s.name).join(", ")
          }`,
        };
    }
    route = { ok: true, server: allowed[0], login: req.username, how: "only_server" };
  }
  if (!isValidLogin(route.login)) {
    return {
      ok: false,
      reason: "invalid_login",
      detail: `login ${JSON.stringify(route.login.slice(0, 140))} is not valid`,
    };
  }
  return route;
}

/** IPv4-mapped IPv6 (from a dual-stack listener) as plain IPv4; everything else unchanged. */
export function plainIp(addr: string | undefined): string {
  if (!addr) return "";
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr);
  return m ? m[1] : addr;
}
