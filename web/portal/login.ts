// The end-user portal's login: a jump user's name, jump password (or directory password) and, when they
// have an authenticator, its code. Throttled per source (shared with console logins) and per jump user
// (the portal's own count: a portal lock does not lock anyone out of SSH). Every outcome audited.
import type { Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { findUser, userCredentials } from "../../db/users.ts";
import { totpFactorOf, verifySecondFactor } from "../../db/totp.ts";
import { clearSourceFailures, recordSourceFailure, sourceBlockedUntil } from "../../db/console_throttle.ts";
import {
  clearPortalFailures,
  createPortalSession,
  portalLockedUntil,
  recordPortalFailure,
} from "../../db/portal_sessions.ts";
import { hashPassword, verifyPassword } from "../../policy/password.ts";
import { ldapAuthenticate } from "../../core/ldap/client.ts";
import type { LdapConfig } from "../../core/ldap/config.ts";
import type { SecretKey } from "../../core/secret_box.ts";
import type { AuthLimits } from "../deps.ts";

export interface PortalLoginInput {
  name: string;
  password: string;
  /** the authenticator's code or a recovery code; empty when the form had none */
  code: string;
  sourceIp: string | null;
  userAgent: string | null;
}

export type PortalLoginResult =
  | { ok: true; token: string; csrfToken: string; expiresAt: Date }
  | {
    ok: false;
    reason:
      | "bad_credentials"
      | "locked"
      | "source_blocked"
      | "disabled"
      | "code_needed"
      | "bad_code"
      | "mfa_not_enrolled";
  };

let dummyHash: Promise<string> | null = null;

export async function attemptPortalLogin(
  sql: Sql,
  key: () => Promise<SecretKey>,
  input: PortalLoginInput,
  now: Date,
  limits: AuthLimits,
  nodeId: string,
  directory: LdapConfig | null = null,
): Promise<PortalLoginResult> {
  const name = input.name.slice(0, 100);
  const audit = (
    action: "portal.login" | "portal.login_failed" | "portal.locked" | "portal.mfa_failed",
    ok: boolean,
    details: Record<string, unknown> = {},
  ) =>
    writeAudit(sql, {
      actor: `portal:${name || "-"}`,
      action,
      target: name || null,
      sourceIp: input.sourceIp,
      success: ok,
      details,
    }, nodeId);
  const countFailure = async (userId: number | null) => {
    if (userId !== null) {
      const until = await recordPortalFailure(sql, userId, now, limits.account);
      if (until) await audit("portal.locked", false, { scope: "account", until: until.toISOString() });
    }
    if (input.sourceIp) {
      const blocked = await recordSourceFailure(sql, input.sourceIp, now, limits.source);
      if (blocked) await audit("portal.locked", false, { scope: "source", until: blocked.toISOString() });
    }
  };

  if (input.sourceIp && await sourceBlockedUntil(sql, input.sourceIp, now)) {
    await audit("portal.login_failed", false, { reason: "source_blocked" });
    return { ok: false, reason: "source_blocked" };
  }
  const user = name ? await findUser(sql, name) : null;
  if (user && await portalLockedUntil(sql, user.id, now)) {
    // refused before the password is looked at, so the lock is no oracle
    await audit("portal.login_failed", false, { reason: "locked" });
    return { ok: false, reason: "locked" };
  }
  const creds = user ? await userCredentials(sql, user.id) : null;
  let passwordOk: boolean;
  if (creds?.directoryDn && directory) {
    passwordOk = (await ldapAuthenticate(directory, name, input.password)) !== null;
  } else {
    // a missing user or one without a password costs the same hash as a real check
    const hash = creds?.passwordHash ?? await (dummyHash ??= hashPassword(crypto.randomUUID()));
    passwordOk = input.password !== "" && (await verifyPassword(input.password, hash)) &&
      !!creds?.passwordHash;
  }
  if (!user || !passwordOk) {
    await audit("portal.login_failed", false, { reason: user ? "bad_credentials" : "unknown_user" });
    await countFailure(user?.id ?? null);
    return { ok: false, reason: "bad_credentials" };
  }
  if (!user.active) {
    await audit("portal.login_failed", false, { reason: "disabled" });
    return { ok: false, reason: "disabled" };
  }
  const owner = { kind: "user" as const, id: user.id, name: user.name };
  const factor = await totpFactorOf(sql, owner);
  let mfa: string | null = null;
  if (factor?.confirmed) {
    if (input.code.trim() === "") return { ok: false, reason: "code_needed" };
    const r = await verifySecondFactor(sql, await key(), owner, input.code.trim().slice(0, 64), now);
    if (!r.ok) {
      await audit("portal.mfa_failed", false, { reason: r.reason });
      await countFailure(user.id);
      return { ok: false, reason: r.reason === "locked" ? "locked" : "bad_code" };
    }
    mfa = r.method;
  } else if (user.mfa_required) {
    // a user who must use a second factor and has none enrolled gets no portal session either
    await audit("portal.login_failed", false, { reason: "mfa_not_enrolled" });
    return { ok: false, reason: "mfa_not_enrolled" };
  }
  await clearPortalFailures(sql, user.id);
  if (input.sourceIp) await clearSourceFailures(sql, input.sourceIp);
  const s = await createPortalSession(sql, {
    userId: user.id,
    sourceIp: input.sourceIp,
    userAgent: input.userAgent,
    now,
    limits,
  });
  await audit("portal.login", true, mfa ? { mfa } : {});
  return { ok: true, ...s };
}
