// Windows account names as RDP carries them, and the policy's login list applied to them (pure).
//
// Forms: "user", "DOMAIN\user" (down-level) and "user@domain" (UPN). Windows compares account and domain
// names case-insensitively, so this does too. Matching a policy login against a requested one:
//   - a policy login without a domain ("alice-adm") allows that account in any domain: "alice-adm",
//     "CORP\alice-adm", "alice-adm@corp.example.com";
//   - a policy login with a domain ("CORP\alice-adm" or "alice-adm@corp") allows only that account of that
//     domain, written either way: "CORP\alice-adm" and "alice-adm@corp". Domains compare as written: the
//     NetBIOS name "CORP" is not the DNS name "corp.example.com" (list both if users type both), and a
//     requested login without a domain does not match (the server would pick its default domain, which the
//     proxy cannot know: fail closed).

export interface WindowsLogin {
  /** the account name as written */
  user: string;
  /** the domain as written ("." = the local machine), or null when none was given */
  domain: string | null;
  form: "plain" | "downlevel" | "upn";
}

export class WindowsLoginError extends Error {
  override name = "WindowsLoginError";
}

/** Characters Windows forbids in account names ('+' among them, which rdp_user_name.ts relies on). */
// deno-lint-ignore no-control-regex -- control characters are exactly what must be refused
const FORBIDDEN_IN_USER = /["/\\[\]:;|=,+*?<>@\x00-\x1f\x7f]/;
// deno-lint-ignore no-control-regex -- as above
const FORBIDDEN_IN_DOMAIN = /["/\\[\]:;|=,+*?<>@\x00-\x1f\x7f\s]/;
const MAX_LENGTH = 256;

export function parseWindowsLogin(text: string): WindowsLogin {
  if (typeof text !== "string" || text.length === 0) throw new WindowsLoginError("empty Windows login");
  if (text.length > MAX_LENGTH) {
    throw new WindowsLoginError(`Windows login longer than ${MAX_LENGTH} characters`);
  }
  const slash = text.indexOf("\\");
  const at = text.lastIndexOf("@");
  let login: WindowsLogin;
  if (slash >= 0) {
    login = { domain: text.slice(0, slash), user: text.slice(slash + 1), form: "downlevel" };
  } else if (at >= 0) {
    login = { user: text.slice(0, at), domain: text.slice(at + 1), form: "upn" };
  } else {
    login = { user: text, domain: null, form: "plain" };
  }
  if (login.user === "" || FORBIDDEN_IN_USER.test(login.user) || login.user.trim() !== login.user) {
    throw new WindowsLoginError(`${JSON.stringify(text)}: not a valid Windows account name`);
  }
  if (login.domain !== null && (login.domain === "" || FORBIDDEN_IN_DOMAIN.test(login.domain))) {
    throw new WindowsLoginError(`${JSON.stringify(text)}: not a valid domain name`);
  }
  return login;
}

export function tryParseWindowsLogin(text: string): WindowsLogin | null {
  try {
    return parseWindowsLogin(text);
  } catch {
    return null;
  }
}

/** Windows' case-insensitive comparison (invariant upper case, as NTLM's UPPERCASE does). */
function same(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/** Does one policy login allow the requested login? Unparseable text on either side matches nothing. */
export function windowsLoginMatches(policyLogin: string, requested: string | WindowsLogin): boolean {
  const p = tryParseWindowsLogin(policyLogin);
  const r = typeof requested === "string" ? tryParseWindowsLogin(requested) : requested;
  if (!p || !r || !same(p.user, r.user)) return false;
  if (p.domain === null) return true;
  return r.domain !== null && same(p.domain, r.domain);
}

/** Does a policy's login list (empty = any) allow the requested Windows login? */
export function windowsLoginAllowed(policyLogins: readonly string[], requested: string): boolean {
  if (policyLogins.length === 0) return true;
  const r = tryParseWindowsLogin(requested);
  return r !== null && policyLogins.some((p) => windowsLoginMatches(p, r));
}

/** One spelling per account, for comparing vault entries: "DOMAIN\user" upper-cased, or "USER". */
export function canonicalWindowsLogin(l: WindowsLogin): string {
  return (l.domain === null ? l.user : `${l.domain}\\${l.user}`).toUpperCase();
}
