// The single sign-on (OpenID Connect) section of the configuration: its keys, defaults and validation. Pure.
// The issuer must be https:// (tokens and the client secret travel to it); plain http:// only with
// oidc_allow_insecure, meant for tests on loopback.
export type OidcConsoleRole = "admin" | "operator" | "auditor";

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** null: a public client (PKCE only). From oidc_client_secret_file, JUMPHOST_OIDC_CLIENT_SECRET or the file */
  clientSecret: string | null;
  /** null: derived from the address the browser used for the console + /login/oidc/callback */
  redirectUrl: string | null;
  scopes: string;
  groupsClaim: string;
  usernameClaim: string;
  /** shown on the login page: "Sign in with <providerName>" */
  providerName: string;
  /** group names per console role (the strongest role wins) */
  roleGroups: Record<OidcConsoleRole, string[]>;
  /** SSO logins skip the console's own TOTP step: the provider does the second factor */
  trustMfa: boolean;
  allowInsecure: boolean;
}

export class OidcConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`);
    this.name = "OidcConfigError";
  }
}

/** The configuration file keys of the single sign-on section. */
export const OIDC_FILE_KEYS = [
  "oidc_issuer",
  "oidc_client_id",
  "oidc_client_secret",
  "oidc_client_secret_file",
  "oidc_redirect_url",
  "oidc_scopes",
  "oidc_groups_claim",
  "oidc_username_claim",
  "oidc_provider_name",
  "oidc_role_admin",
  "oidc_role_operator",
  "oidc_role_auditor",
  "oidc_trust_mfa",
  "oidc_allow_insecure",
] as const;

type Raw = Record<string, unknown>;

const CLAIM = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,99}$/;

/**
 * Resolves the single sign-on section from the config file's keys and JUMPHOST_OIDC_* (the environment
 * wins). Null when oidc_issuer is not set. `readFile` reads oidc_client_secret_file.
 */
export function resolveOidcConfig(
  file: Raw,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): OidcConfig | null {
  const get = (k: string): unknown => {
    const e = env[`JUMPHOST_${k.toUpperCase()}`];
    return e !== undefined && e !== "" ? e : file[k];
  };
  const str = (k: string): string | null => {
    const v = get(k);
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw new OidcConfigError(k, "expected a string");
    return v.trim() === "" ? null : v.trim();
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = get(k);
    if (v === undefined || v === null) return dflt;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    throw new OidcConfigError(k, "must be true or false");
  };
  const issuer = str("oidc_issuer");
  if (issuer === null) return null;
  const allowInsecure = bool("oidc_allow_insecure", false);
  checkUrl("oidc_issuer", issuer, allowInsecure);
  const clientId = str("oidc_client_id");
  if (clientId === null) throw new OidcConfigError("oidc_client_id", "is required with oidc_issuer");

  let clientSecret = str("oidc_client_secret");
  const secretFile = str("oidc_client_secret_file");
  if (secretFile !== null && env.JUMPHOST_OIDC_CLIENT_SECRET === undefined) {
    if (file.oidc_client_secret !== undefined) {
      throw new OidcConfigError("oidc_client_secret_file", "give the secret or a file, not both");
    }
    try {
      clientSecret = readFile(secretFile).replace(/\r?\n$/, "");
    } catch (e) {
      throw new OidcConfigError("oidc_client_secret_file", `cannot read: ${(e as Error).message}`);
    }
    if (clientSecret === "") throw new OidcConfigError("oidc_client_secret_file", "the secret is empty");
  }

  const redirectUrl = str("oidc_redirect_url");
  if (redirectUrl !== null) checkUrl("oidc_redirect_url", redirectUrl, allowInsecure);

  const scopes = (str("oidc_scopes") ?? "openid profile email").split(/[\s,]+/).filter((s) => s !== "");
  if (!scopes.includes("openid")) throw new OidcConfigError("oidc_scopes", "must include openid");
  if (scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new OidcConfigError("oidc_scopes", "a scope contains a character scopes may not have");
  }
  const claim = (k: string, dflt: string): string => {
    const v = str(k) ?? dflt;
    if (!CLAIM.test(v)) throw new OidcConfigError(k, "must be a claim name");
    return v;
  };
  const roleGroups = {
    admin: groupList(get("oidc_role_admin"), "oidc_role_admin"),
    operator: groupList(get("oidc_role_operator"), "oidc_role_operator"),
    auditor: groupList(get("oidc_role_auditor"), "oidc_role_auditor"),
  };
  if (Object.values(roleGroups).every((g) => g.length === 0)) {
    throw new OidcConfigError(
      "oidc_role_admin",
      "map at least one group to a console role (oidc_role_admin, oidc_role_operator, oidc_role_auditor)",
    );
  }
  const providerName = str("oidc_provider_name") ?? new URL(issuer).hostname;
  if (providerName.length > 60) throw new OidcConfigError("oidc_provider_name", "at most 60 characters");
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUrl,
    scopes: scopes.join(" "),
    groupsClaim: claim("oidc_groups_claim", "groups"),
    usernameClaim: claim("oidc_username_claim", "preferred_username"),
    providerName,
    roleGroups,
    trustMfa: bool("oidc_trust_mfa", true),
    allowInsecure,
  };
}

function checkUrl(key: string, v: string, allowInsecure: boolean): void {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new OidcConfigError(key, "must be a URL");
  }
  if (u.protocol === "http:" && !allowInsecure) {
    throw new OidcConfigError(key, "must be https:// (http:// only with oidc_allow_insecure, for tests)");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new OidcConfigError(key, "must be https://");
  if (u.search !== "" || u.hash !== "") throw new OidcConfigError(key, "must have no query or fragment");
}

/** A group list: a JSON array, or one string of names separated by commas. */
function groupList(v: unknown, key: string): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(",") : null;
  if (list === null || list.some((g) => typeof g !== "string")) {
    throw new OidcConfigError(key, "must be a group name, names separated by commas, or a list of names");
  }
  return (list as string[]).map((g) => g.trim()).filter((g) => g !== "");
}

const STRENGTH: Record<OidcConsoleRole, number> = { auditor: 1, operator: 2, admin: 3 };

/**
 * The console role of an SSO user's groups (the claim's value: an array of names, or one name): the
 * strongest role any of them is mapped to; null when none is (the user may not use the console). Names
 * compare exactly: providers treat group names as case-sensitive identifiers.
 */
export function oidcRoleFor(
  roleGroups: Record<OidcConsoleRole, string[]>,
  claim: unknown,
): OidcConsoleRole | null {
  const groups = new Set(
    Array.isArray(claim)
      ? claim.filter((g) => typeof g === "string")
      : typeof claim === "string"
      ? [claim]
      : [],
  );
  let best: OidcConsoleRole | null = null;
  for (const role of Object.keys(STRENGTH) as OidcConsoleRole[]) {
    if (roleGroups[role].some((g) => groups.has(g)) && (!best || STRENGTH[role] > STRENGTH[best])) {
      best = role;
    }
  }
  return best;
}
