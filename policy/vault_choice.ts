// Which vaulted credential to inject toward a server (pure): the user's named login (alice+LOGIN, see
// rdp_user_name.ts) or, when they named none, the only vaulted login their grant allows.
import {
  canonicalWindowsLogin,
  tryParseWindowsLogin,
  windowsLoginAllowed,
  windowsLoginMatches,
} from "./windows_login.ts";

export type VaultChoice =
  | { ok: true; login: string }
  | {
    ok: false;
    /**
     * no_credential: the server has no vaulted login the grant allows; ambiguous: several, and none was
     * named; not_vaulted: the named login has no credential; login_not_allowed: the named login is outside
     * the grant's list
     */
    reason: "no_credential" | "ambiguous" | "not_vaulted" | "login_not_allowed";
    detail: string;
  };

/**
 * `vaulted`: the server's vaulted logins (db/server_credentials.ts); `allowed`: the decision's logins
 * (empty = any); `named`: what the user named after '+', or null.
 */
export function chooseVaultLogin(
  vaulted: readonly string[],
  allowed: readonly string[],
  named: string | null,
): VaultChoice {
  const permitted = vaulted.filter((v) => windowsLoginAllowed(allowed, v));
  if (named !== null) {
    if (!windowsLoginAllowed(allowed, named)) {
      return {
        ok: false,
        reason: "login_not_allowed",
        detail: `the grant does not allow ${JSON.stringify(named)}`,
      };
    }
    const n = tryParseWindowsLogin(named);
    // "svc" names CORP\svc when that is the only vaulted svc; a named domain must match exactly
    const hits = n === null ? [] : permitted.filter((v) => {
      const l = tryParseWindowsLogin(v);
      return l !== null &&
        (n.domain === null
          ? windowsLoginMatches(named, l)
          : canonicalWindowsLogin(n) === canonicalWindowsLogin(l));
    });
    if (hits.length === 1) return { ok: true, login: hits[0] };
    if (hits.length > 1) {
      return {
        ok: false,
        reason: "ambiguous",
        detail: `${JSON.stringify(named)} matches ${hits.join(", ")}: name the domain`,
      };
    }
    return {
      ok: false,
      reason: "not_vaulted",
      detail: `no vaulted credential for ${JSON.stringify(named)} that the grant allows`,
    };
  }
  if (permitted.length === 1) return { ok: true, login: permitted[0] };
  if (permitted.length === 0) {
    return {
      ok: false,
      reason: "no_credential",
      detail: "no vaulted credential on this server that the grant allows",
    };
  }
  return {
    ok: false,
    reason: "ambiguous",
    detail: `several vaulted logins are allowed (${permitted.join(", ")}): log in as user+LOGIN to pick one`,
  };
}
