// Logging in to the console with a passkey: alone (passwordless; a discoverable passkey with user
// verification is two factors), or as the second factor after the password. Throttled and audited like a
// password login: unknown keys count against the source, rejected ones against the account.
import type { Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { findConsoleUserById, recordAccountFailure } from "../../db/console_users.ts";
import { recordSourceFailure, sourceBlockedUntil } from "../../db/console_throttle.ts";
import { takeMfaChallenge } from "../../db/console_mfa_challenges.ts";
import {
  advancePasskeyCounter,
  type Ceremony,
  findPasskey,
  passwordlessAllowed,
} from "../../db/console_passkeys.ts";
import { type Audit, type LoginResult, openSession } from "../auth.ts";
import type { AuthLimits } from "../deps.ts";
import { checkAuthentication, credentialIdOf, PasskeyError } from "./webauthn.ts";

export interface PasskeyLoginInput {
  ceremony: Ceremony;
  response: unknown;
  /** second factor: the challenge of the password step (consumed on success) */
  mfaChallenge?: string;
  sourceIp: string | null;
  userAgent: string | null;
}

export type PasskeyLoginResult =
  | LoginResult
  | { ok: false; reason: "passkey_rejected" | "passwordless_not_allowed" | "challenge_expired" };

export async function passkeyLogin(
  sql: Sql,
  input: PasskeyLoginInput,
  now: Date,
  limits: AuthLimits,
  nodeId: string,
): Promise<PasskeyLoginResult> {
  const { ceremony } = input;
  const key = await findPasskey(sql, credentialIdOf(input.response) ?? "");
  const user = key ? await findConsoleUserById(sql, key.console_user_id) : null;
  const name = user?.name ?? "-";
  const audit: Audit = (action, ok, details = {}) =>
    writeAudit(sql, {
      actor: `console:${name}`,
      action,
      target: user?.name ?? null,
      sourceIp: input.sourceIp,
      success: ok,
      details: { method: "passkey", ...details },
    }, nodeId);

  if (input.sourceIp && await sourceBlockedUntil(sql, input.sourceIp, now)) {
    await audit("console.login_failed", false, { reason: "source_blocked" });
    return { ok: false, reason: "source_blocked" };
  }
  if (!key || !user || (ceremony.purpose === "second_factor" && ceremony.userId !== user.id)) {
    // a key of nobody here, or of another account than the one whose password was typed
    await audit("console.login_failed", false, { reason: "unknown_passkey" });
    if (input.sourceIp) await recordSourceFailure(sql, input.sourceIp, now, limits.source);
    return { ok: false, reason: "passkey_rejected" };
  }
  if (user.locked_until && user.locked_until > now) {
    await audit("console.login_failed", false, { reason: "locked" });
    return { ok: false, reason: "locked" };
  }
  if (!user.active) {
    await audit("console.login_failed", false, { reason: "disabled" });
    return { ok: false, reason: "disabled" };
  }
  if (ceremony.purpose === "login" && !(await passwordlessAllowed(sql, user.id))) {
    await audit("console.login_failed", false, { reason: "passwordless_not_allowed" });
    return { ok: false, reason: "passwordless_not_allowed" };
  }
  let counter: number;
  try {
    counter = await checkAuthentication(input.response, ceremony, key);
  } catch (e) {
    if (!(e instanceof PasskeyError)) throw e;
    await audit(ceremony.purpose === "login" ? "console.login_failed" : "console.mfa_failed", false, {
      reason: e.code,
    });
    const lockedUntil = await recordAccountFailure(sql, user.id, now, limits.account);
    if (lockedUntil) {
      await audit("console.locked", false, { scope: "account", until: lockedUntil.toISOString() });
    }
    return { ok: false, reason: "passkey_rejected" };
  }
  if (!(await advancePasskeyCounter(sql, key.id, counter, now))) {
    await writeAudit(sql, {
      actor: `console:${name}`,
      action: "mfa.passkey_counter",
      target: user.name,
      sourceIp: input.sourceIp,
      success: false,
      details: { passkey: key.name, counter, stored: key.sign_count },
    }, nodeId);
    return { ok: false, reason: "passkey_rejected" };
  }
  if (ceremony.purpose === "second_factor") {
    if (!input.mfaChallenge || !(await takeMfaChallenge(sql, input.mfaChallenge))) {
      return { ok: false, reason: "challenge_expired" };
    }
  }
  return await openSession(sql, user, input, now, limits, audit, {
    mfa: "passkey",
    passkey: key.name,
    passwordless: ceremony.purpose === "login",
  });
}
