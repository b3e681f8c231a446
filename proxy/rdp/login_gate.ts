// The Windows login a TLS (non-NLA) session asks for, checked against the grant before the backend sees
// the Client Info PDU that carries it (pure). With NLA the login is known earlier (TSCredentials, or the
// vaulted login) and admission checks it; this is the check for clients that log on without NLA.
//
// Limits, said plainly: with TLS only, Windows may still show its logon screen (no password sent, a wrong
// one, or "always prompt") where the user can type another account. The gate enforces the login the
// client announces; a grant restricted to logins is only airtight with NLA (rdp_security = nla).
import type { Allow, Deny, Snapshot } from "../../policy/mod.ts";
import { readmit } from "./admission.ts";

export interface ClientInfoNames {
  domain: string;
  userName: string;
}

/** "DOMAIN\user", "user@domain" or "user" as the client wrote it; "" when it named nobody. */
export function clientInfoLogin(info: ClientInfoNames): string {
  if (info.userName === "") return "";
  if (info.domain === "" || info.userName.includes("@")) return info.userName;
  return `${info.domain}\\${info.userName}`;
}

export type LoginGate =
  | { ok: true; login: string | null; decision: Allow }
  | { ok: false; reason: string; detail: string; login: string | null };

/**
 * Re-decides the connection with the login the Client Info names. A grant without a login list lets any
 * (or no) login through; a grant with one needs the Client Info to name an allowed login (naming none
 * would leave the choice to the Windows logon screen).
 */
export function gateClientInfoLogin(
  snapshot: Snapshot | null,
  conn: { sourceIp: string; serverId: number; provenUser: string | null; userId: number; decision: Allow },
  info: ClientInfoNames,
  now: Date,
): LoginGate {
  const login = clientInfoLogin(info);
  if (!snapshot) {
    return {
      ok: false,
      reason: "policy_unavailable",
      detail: "the policy snapshot is stale or missing (database unreachable): failing closed",
      login: login || null,
    };
  }
  const any = readmit(snapshot, { ...conn, login: null }, now);
  if (!any.allowed) return { ok: false, reason: any.reason, detail: any.detail, login: login || null };
  if (any.logins.length === 0) return { ok: true, login: login || null, decision: any };
  if (login === "") {
    return {
      ok: false,
      reason: "login_not_allowed",
      detail: `the client named no Windows login; the grant allows ${any.logins.join(", ")} only`,
      login: null,
    };
  }
  const d = readmit(snapshot, { ...conn, login }, now);
  if (!d.allowed) return { ok: false, reason: d.reason, detail: (d as Deny).detail, login };
  return { ok: true, login, decision: d };
}
