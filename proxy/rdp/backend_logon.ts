// Which Windows logon the proxy hands the backend for a user proven by NLA (pure):
//   1. a server with vaulted credentials: the one chooseVaultLogin() picks (the login named in the RDP user
//      name as alice+LOGIN, or the only one the grant allows), or a denial saying why;
//   2. a server with nothing in its vault (and no login named) that allows password passthrough: the user
//      name and password typed at the jump (for backends that share the jump's accounts); the grant's login
//      list applies;
//   3. otherwise no credential: the jump password stays at the jump. The backend is asked for TLS only and
//      gets the user name without a password (the user logs on at its logon screen); one that requires NLA
//      refuses at the X.224 negotiation, before any credential could be exchanged.
import { chooseVaultLogin } from "../../policy/mod.ts";
import type { Logon } from "./nla_steps.ts";

export interface VaultEntry {
  login: string;
  password: string;
}

export type LogonPlan =
  | { kind: "vault" | "passthrough"; login: string; logon: Logon }
  | { kind: "none" }
  | { kind: "deny"; reason: string; detail: string };

export interface LogonPlanInput {
  serverName: string;
  jumpUser: string;
  /** What the client typed: the NTLM domain and the jump password. */
  typed: { domain: string; password: string };
  /** The vaulted login named after '+', or null. */
  namedLogin: string | null;
  /** The server's vault (db credentialsFor). */
  vault: VaultEntry[];
  /** The decision's login union; empty = any login. */
  allowedLogins: readonly string[];
  /** The server's password_passthrough: the jump password may be handed to it. */
  passthrough: boolean;
}

/** "CORP\svc" → { domain: "CORP", user: "svc" }; "svc@corp.example" and "svc" keep an empty domain. */
export function splitLogin(login: string): { domain: string; user: string } {
  const i = login.indexOf("\\");
  return i < 0 ? { domain: "", user: login } : { domain: login.slice(0, i), user: login.slice(i + 1) };
}

export function planBackendLogon(i: LogonPlanInput): LogonPlan {
  if (i.namedLogin !== null || i.vault.length > 0) {
    const c = chooseVaultLogin(i.vault.map((e) => e.login), i.allowedLogins, i.namedLogin);
    if (!c.ok) {
      const reason = c.reason === "login_not_allowed" ? c.reason : `credential_${c.reason}`;
      return { kind: "deny", reason, detail: `server ${i.serverName}: ${c.detail}` };
    }
    const e = i.vault.find((v) => v.login === c.login)!;
    return { kind: "vault", login: e.login, logon: { ...splitLogin(e.login), password: e.password } };
  }
  if (!i.passthrough) return { kind: "none" };
  const login = i.typed.domain ? `${i.typed.domain}\\${i.jumpUser}` : i.jumpUser;
  return {
    kind: "passthrough",
    login,
    logon: { domain: i.typed.domain, user: i.jumpUser, password: i.typed.password },
  };
}
