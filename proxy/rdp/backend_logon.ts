// Which Windows logon the proxy hands the backend for a user proven by NLA (pure). In order:
//   1. the login the user named in the RDP user name (alice+svc): that vaulted credential, or a denial;
//   2. otherwise the vaulted credentials the user's grant allows: exactly one is used, several must be
//      named, none allowed is a denial;
//   3. a server with nothing in its vault gets passthrough: the user name and password typed at the jump
//      (for backends that share the jump's accounts).
import { windowsLoginAllowed } from "../../policy/mod.ts";
import type { Logon } from "./nla_steps.ts";

export interface VaultEntry {
  login: string;
  password: string;
}

export type LogonPlan =
  | { kind: "vault" | "passthrough"; login: string; logon: Logon }
  | {
    kind: "deny";
    reason: "credential_missing" | "credential_ambiguous" | "login_not_allowed";
    detail: string;
  };

export interface LogonPlanInput {
  serverName: string;
  jumpUser: string;
  /** What the client typed: the NTLM domain and the jump password. */
  typed: { domain: string; password: string };
  /** The vaulted login named after '+', or null. */
  namedLogin: string | null;
  /** The server's vault: with a named login only the entries for it (db credentialsFor). */
  vault: VaultEntry[];
  /** The decision's login union; empty = any login. */
  allowedLogins: readonly string[];
}

/** "CORP\svc" → { domain: "CORP", user: "svc" }; "svc@corp.example" and "svc" keep an empty domain. */
export function splitLogin(login: string): { domain: string; user: string } {
  const i = login.indexOf("\\");
  return i < 0 ? { domain: "", user: login } : { domain: login.slice(0, i), user: login.slice(i + 1) };
}

function fromVault(e: VaultEntry): LogonPlan {
  return { kind: "vault", login: e.login, logon: { ...splitLogin(e.login), password: e.password } };
}

export function planBackendLogon(i: LogonPlanInput): LogonPlan {
  if (i.namedLogin !== null) {
    if (i.vault.length === 0) {
      return {
        kind: "deny",
        reason: "credential_missing",
        detail: `no credential for login ${
          JSON.stringify(i.namedLogin)
        } is stored for server ${i.serverName}`,
      };
    }
    return fromVault(i.vault[0]);
  }
  if (i.vault.length > 0) {
    const allowed = i.vault.filter((e) => windowsLoginAllowed(i.allowedLogins, e.login));
    if (allowed.length === 1) return fromVault(allowed[0]);
    const names = (allowed.length ? allowed : i.vault).map((e) => e.login).join(", ");
    if (allowed.length === 0) {
      return {
        kind: "deny",
        reason: "login_not_allowed",
        detail:
          `none of the logins stored for ${i.serverName} (${names}) is allowed by ${i.jumpUser}'s grant`,
      };
    }
    return {
      kind: "deny",
      reason: "credential_ambiguous",
      detail:
        `several stored logins are allowed (${names}): name one as ${i.jumpUser}+LOGIN in the user name`,
    };
  }
  const login = i.typed.domain ? `${i.typed.domain}\\${i.jumpUser}` : i.jumpUser;
  return {
    kind: "passthrough",
    login,
    logon: { domain: i.typed.domain, user: i.jumpUser, password: i.typed.password },
  };
}
