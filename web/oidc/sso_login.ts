// A single sign-on login after the provider's ID token checked out: the console role from the groups claim,
// the account made at the first login or brought in line, then a console session (or, with oidc_trust_mfa
// off and a TOTP factor, the verification-code step). Every outcome is audited.
import type { Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { consoleUserNameError, findConsoleUserById } from "../../db/console_users.ts";
import { revokeSsoConsoleUser, upsertSsoConsoleUser } from "../../db/console_oidc.ts";
import { createMfaChallenge } from "../../db/console_mfa_challenges.ts";
import { totpFactorOf } from "../../db/totp.ts";
import { hasPasskey } from "../../db/console_passkeys.ts";
import { type OidcConfig, oidcRoleFor } from "../../core/oidc/config.ts";
import { type Audit, type AuthLimits, type LoginResult, openSession } from "../auth.ts";

export type SsoRefusal = "no_console_role" | "name_taken" | "disabled" | "bad_claims";

export type SsoLoginResult =
  | LoginResult
  | { ok: false; reason: SsoRefusal; name: string | null };

export interface SsoLoginInput {
  claims: Record<string, unknown>;
  sourceIp: string | null;
  userAgent: string | null;
  next: string;
}

export async function ssoLogin(
  sql: Sql,
  config: OidcConfig,
  input: SsoLoginInput,
  now: Date,
  limits: AuthLimits,
  nodeId: string,
): Promise<SsoLoginResult> {
  const { claims } = input;
  const issuer = typeof claims.iss === "string" ? claims.iss : "";
  const subject = typeof claims.sub === "string" ? claims.sub : "";
  const wanted = claims[config.usernameClaim];
  const name = typeof wanted === "string" ? wanted.trim() : "";
  const sso = { issuer, subject };
  const auditAs = (who: string): Audit => (action, ok, details = {}) =>
    writeAudit(sql, {
      actor: `console:${who}`,
      action,
      target: who,
      sourceIp: input.sourceIp,
      success: ok,
      details: { via: "oidc", sso, ...details },
    }, nodeId);
  const actor = `oidc:${nodeId}`;

  if (issuer === "" || subject === "" || consoleUserNameError(name) !== null) {
    await auditAs(name.slice(0, 64) || "-")("console.login_failed", false, {
      reason: "bad_claims",
      claim: config.usernameClaim,
    });
    return { ok: false, reason: "bad_claims", name: name || null };
  }
  const role = oidcRoleFor(config.roleGroups, claims[config.groupsClaim]);
  if (role === null) {
    // out of every mapped group: refused, and any console session the account still has ends now
    const revoked = await revokeSsoConsoleUser(sql, issuer, subject, actor);
    await auditAs(revoked?.name ?? name)("console.login_failed", false, {
      reason: "no_console_role",
      groups_claim: config.groupsClaim,
      sessions_ended: revoked?.sessionsEnded ?? 0,
    });
    return { ok: false, reason: "no_console_role", name: revoked?.name ?? name };
  }
  const account = await upsertSsoConsoleUser(sql, { issuer, subject, name }, role, actor);
  if (!account.ok) {
    await auditAs(account.name)("console.login_failed", false, { reason: account.reason });
    return { ok: false, reason: account.reason, name: account.name };
  }
  const user = await findConsoleUserById(sql, account.id);
  if (!user) return { ok: false, reason: "disabled", name: account.name };
  const audit = auditAs(user.name);
  if (!config.trustMfa) {
    const factor = await totpFactorOf(sql, { kind: "console", id: user.id, name: user.name });
    if (factor?.confirmed || await hasPasskey(sql, user.id)) {
      const challenge = await createMfaChallenge(sql, user.id, input.next, now);
      return { ok: false, reason: "code_needed", challenge };
    }
  }
  return await openSession(sql, user, input, now, limits, audit, {
    via: "oidc",
    sso,
    provisioned: account.created,
    ...(account.previousRole ? { previous_role: account.previousRole } : {}),
  });
}
