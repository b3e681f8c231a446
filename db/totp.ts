// TOTP second factors at rest (table totp_factors, totp_recovery_codes): enrol, confirm, reset, and the
// one check every front end uses (SSH prompt, console login, CLI). The secret is sealed with the appliance
// secret (core/secret_box.ts) bound to its owner; an accepted code's time-step is stored compare-and-set, so
// a code is good once even across appliances sharing the database.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";
import { InputError } from "./errors.ts";
import { openText, sealText, SecretBoxError, type SecretKey } from "../core/secret_box.ts";
import { checkTotp, newTotpSecret, totpUri } from "../policy/totp.ts";
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from "../policy/recovery_codes.ts";

/** Whose factor: a jump user (users.id) or a console account (console_users.id). */
export type FactorOwner = { kind: "user"; id: number; name: string } | {
  kind: "console";
  id: number;
  name: string;
};

export interface TotpFactorState {
  id: number;
  confirmed: boolean;
  recoveryCodesLeft: number;
}

function purpose(o: FactorOwner): string {
  return `totp:${o.kind}:${o.id}`;
}

function ownerColumn(sql: Sql | TxSql, o: FactorOwner) {
  return o.kind === "user" ? sql`user_id = ${o.id}` : sql`console_user_id = ${o.id}`;
}

export async function totpFactorOf(sql: Sql | TxSql, o: FactorOwner): Promise<TotpFactorState | null> {
  const [r] = await sql<{ id: number; confirmed: boolean; left: number }[]>`
    SELECT f.id, f.confirmed_at IS NOT NULL AS confirmed,
      (SELECT count(*)::int FROM totp_recovery_codes c WHERE c.factor_id = f.id AND c.used_at IS NULL) AS left
    FROM totp_factors f WHERE ${ownerColumn(sql, o)}`;
  return r ? { id: Number(r.id), confirmed: r.confirmed, recoveryCodesLeft: r.left } : null;
}

export interface Enrolment {
  secret: string;
  uri: string;
  recoveryCodes: string[];
}

/**
 * Starts an enrolment: a new pending factor with ten recovery codes, replacing a pending one. An owner
 * with a confirmed factor must have it reset first (a stolen session cannot silently swap the factor).
 * The secret and codes are returned once and never again.
 */
export async function enrolTotp(
  sql: Sql,
  key: SecretKey,
  o: FactorOwner,
  actor: ActorRef,
): Promise<Enrolment> {
  const secret = newTotpSecret();
  const codes = newRecoveryCodes();
  await sql.begin(async (tx) => {
    const existing = await totpFactorOf(tx, o);
    if (existing?.confirmed) {
      throw new InputError("totp", `${o.name} already has an active TOTP factor; reset it first`);
    }
    if (existing) await tx`DELETE FROM totp_factors WHERE id = ${existing.id}`;
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO totp_factors (user_id, console_user_id, secret_sealed)
      VALUES (${o.kind === "user" ? o.id : null}, ${o.kind === "console" ? o.id : null},
              ${sealText(key, secret, purpose(o))})
      RETURNING id`;
    for (const c of codes) {
      await tx`INSERT INTO totp_recovery_codes (factor_id, code_hash)
        VALUES (${id}, ${hashRecoveryCode(normalizeRecoveryCode(c)!)})`;
    }
    await writeAudit(tx, changeEvent(actor, "mfa.totp_enrolled", o.name, { owner: o.kind }));
  });
  return { secret, uri: totpUri(secret, o.name), recoveryCodes: codes };
}

/** Removes the factor and its recovery codes (a lost device, or a re-enrolment). Audited. */
export async function resetTotp(sql: Sql, o: FactorOwner, actor: ActorRef): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const gone = await tx`DELETE FROM totp_factors WHERE ${ownerColumn(tx, o)} RETURNING id`;
    if (gone.length > 0) {
      await writeAudit(tx, changeEvent(actor, "mfa.totp_reset", o.name, { owner: o.kind }));
    }
    return gone.length > 0;
  }) as boolean;
}

export type SecondFactorResult =
  | { ok: true; method: "totp" | "recovery_code"; confirmedNow: boolean; recoveryCodesLeft: number }
  | {
    ok: false;
    reason: "no_factor" | "pending" | "malformed" | "wrong" | "reused" | "unreadable" | "locked";
  };

/** Wrong codes in a row before a factor refuses every code for LOCK_MS (a million codes, three valid). */
export const MAX_CODE_FAILURES = 10;
export const LOCK_MS = 15 * 60_000;

/**
 * Checks a code (or a recovery code) for an owner at `now`. A pending factor counts only with
 * `allowPending` (the SSH prompt confirms a CLI enrolment with its first code; a console login ignores an
 * unfinished enrolment); a correct TOTP code confirms it. A recovery code is marked used.
 */
export async function verifySecondFactor(
  sql: Sql,
  keys: SecretKey | readonly SecretKey[],
  o: FactorOwner,
  input: string,
  now: Date,
  opts: { allowPending?: boolean } = {},
): Promise<SecondFactorResult> {
  const [f] = await sql<
    {
      id: number;
      secret_sealed: string;
      confirmed: boolean;
      last_step: string | null;
      locked_until: Date | null;
    }[]
  >`
    SELECT id, secret_sealed, confirmed_at IS NOT NULL AS confirmed, last_step, locked_until
    FROM totp_factors WHERE ${ownerColumn(sql, o)}`;
  if (!f) return { ok: false, reason: "no_factor" };
  if (!f.confirmed && !opts.allowPending) return { ok: false, reason: "pending" };
  // while locked no code is looked at, so guessing across connections or nodes gets nowhere
  if (f.locked_until && f.locked_until > now) return { ok: false, reason: "locked" };
  const failed = async (reason: "malformed" | "wrong" | "reused"): Promise<SecondFactorResult> => {
    const [r] = await sql<{ locked: boolean }[]>`
      UPDATE totp_factors SET
        failures = CASE WHEN failures + 1 >= ${MAX_CODE_FAILURES} THEN 0 ELSE failures + 1 END,
        locked_until = CASE WHEN failures + 1 >= ${MAX_CODE_FAILURES}
                            THEN ${new Date(now.getTime() + LOCK_MS)} ELSE locked_until END
      WHERE id = ${f.id}
      RETURNING COALESCE(locked_until > ${now}, false) AS locked`;
    return { ok: false, reason: r?.locked ? "locked" : reason };
  };
  const left = async () => (await totpFactorOf(sql, o))?.recoveryCodesLeft ?? 0;
  const recovery = normalizeRecoveryCode(input);
  if (recovery !== null && f.confirmed) {
    const used = await sql`UPDATE totp_recovery_codes SET used_at = ${now}
      WHERE factor_id = ${f.id} AND code_hash = ${hashRecoveryCode(recovery)} AND used_at IS NULL
      RETURNING factor_id`;
    if (used.length === 0) return await failed("wrong");
    await sql`UPDATE totp_factors SET failures = 0 WHERE id = ${f.id}`;
    await writeAudit(
      sql,
      changeEvent(`${o.kind}:${o.name}`, "mfa.recovery_code_used", o.name, { owner: o.kind }),
    );
    return { ok: true, method: "recovery_code", confirmedNow: false, recoveryCodesLeft: await left() };
  }
  let secret: string;
  try {
    secret = openText(keys, f.secret_sealed, purpose(o));
  } catch (e) {
    if (e instanceof SecretBoxError) return { ok: false, reason: "unreadable" };
    throw e;
  }
  const lastStep = f.last_step === null ? null : Number(f.last_step);
  const check = checkTotp(secret, input, now.getTime(), lastStep);
  if (!check.ok) return await failed(check.reason);
  // compare-and-set: a concurrent use of the same code (another connection, another node) loses
  const [won] = await sql<{ confirmed_now: boolean }[]>`
    UPDATE totp_factors SET last_step = ${check.step}, confirmed_at = COALESCE(confirmed_at, ${now}),
      failures = 0
    WHERE id = ${f.id} AND (last_step IS NULL OR last_step < ${check.step})
    RETURNING (confirmed_at = ${now}) AS confirmed_now`;
  if (!won) return await failed("reused");
  const confirmedNow = !f.confirmed && won.confirmed_now;
  if (confirmedNow) {
    await writeAudit(
      sql,
      changeEvent(`${o.kind}:${o.name}`, "mfa.totp_confirmed", o.name, { owner: o.kind }),
    );
  }
  return { ok: true, method: "totp", confirmedNow, recoveryCodesLeft: await left() };
}
