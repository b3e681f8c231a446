// The RDP user name with NLA: the jump user, optionally followed by '+' and the backend login to use from
// the server's credential vault (pure). Examples (what the user types in mstsc's user name field):
//
//   alice                   jump user alice; the backend login is the only one her grant and the vault allow
//   alice+svc               jump user alice, vaulted login "svc"
//   alice+CORP\svc          jump user alice, vaulted login "CORP\svc"
//   alice+svc@corp.example  jump user alice, vaulted login "svc@corp.example"
//
// '+' cannot occur in a jump user name nor in a Windows account name, so the split is never ambiguous.
// Clients split "X\Y" into a domain field and a user field before NTLM sees them (mstsc sends
// "alice+CORP\svc" as domain "alice+CORP", user "svc"; xfreerdp /u:alice+svc /d:CORP as domain "CORP",
// user "alice+svc"), so the parser takes both fields and accepts either placement.
import { parseWindowsLogin, type WindowsLogin, WindowsLoginError } from "./windows_login.ts";
import { splitRdpMfaCode } from "./rdp_mfa_code.ts";

export const VAULT_LOGIN_SEPARATOR = "+";
const JUMP_USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RdpUserName {
  jumpUser: string;
  /** the vaulted backend login the user named, or null: use the only one allowed */
  backendLogin: WindowsLogin | null;
  /** backendLogin as text ("CORP\svc", "svc@corp", "svc") */
  backendLoginText: string | null;
  /** the verification code typed after the separator at the end of the user field (rdp_mfa_code.ts) */
  mfaCode: string | null;
  /** the user field without the code: what the backend may be told */
  user: string;
}

export class RdpUserNameError extends Error {
  override name = "RdpUserNameError";
}

/**
 * Parse the (domain, user) pair an NLA client sent (NTLM AUTHENTICATE or TSCredentials). With
 * `mfaSeparator`, a verification code at the end of the user field is taken off first.
 */
export function parseRdpUserName(domain: string, typedUser: string, mfaSeparator?: string): RdpUserName {
  const { user, code: mfaCode } = mfaSeparator === undefined
    ? { user: typedUser, code: null }
    : splitRdpMfaCode(typedUser, mfaSeparator);
  let jumpUser: string;
  let login: string | null = null;
  const inUser = user.indexOf(VAULT_LOGIN_SEPARATOR);
  const inDomain = domain.indexOf(VAULT_LOGIN_SEPARATOR);
  if (inUser >= 0) {
    // "alice+svc" (domain, if any, belongs to the backend login) or "CORP\alice+svc" as xfreerdp /d:CORP
    jumpUser = user.slice(0, inUser);
    const rest = user.slice(inUser + 1);
    login = domain !== "" && !rest.includes("\\") && !rest.includes("@") ? `${domain}\\${rest}` : rest;
  } else if (inDomain >= 0) {
    // mstsc split "alice+CORP\svc" at the backslash
    jumpUser = domain.slice(0, inDomain);
    const backendDomain = domain.slice(inDomain + 1);
    login = backendDomain === "" ? user : `${backendDomain}\\${user}`;
  } else {
    // no '+': the whole user field is the jump user; a domain typed with it is not the jump's business
    jumpUser = user;
  }
  if (!JUMP_USER.test(jumpUser)) {
    throw new RdpUserNameError(`${JSON.stringify(jumpUser)} is not a jump user name`);
  }
  if (login === null) return { jumpUser, backendLogin: null, backendLoginText: null, mfaCode, user };
  try {
    return { jumpUser, backendLogin: parseWindowsLogin(login), backendLoginText: login, mfaCode, user };
  } catch (e) {
    if (e instanceof WindowsLoginError) throw new RdpUserNameError(`backend login: ${e.message}`);
    throw e;
  }
}
