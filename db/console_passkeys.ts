// console_passkeys and webauthn_challenges (migration 023): a console account's passkeys and the WebAuthn
// ceremonies in progress. The cryptography is @simplewebauthn/server's (web/passkeys/); this file stores.
import { createHash, randomBytes } from "node:crypto";
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";

export interface PasskeyRow {
  id: number;
  console_user_id: number;
  credential_id: string;
  public_key: Uint8Array;
  sign_count: number;
  transports: string[];
  name: string;
  rp_id: string;
  created_at: Date;
  last_used_at: Date | null;
}

const COLS = (sql: Sql | TxSql) =>
  sql`id, console_user_id, credential_id, public_key, sign_count::int AS sign_count, transports, name, rp_id,
    created_at, last_used_at`;

export function listPasskeys(sql: Sql | TxSql, userId: number): Promise<PasskeyRow[]> {
  return sql<PasskeyRow[]>`SELECT ${
    COLS(sql)
  } FROM console_passkeys WHERE console_user_id = ${userId} ORDER BY id`;
}

export async function findPasskey(sql: Sql, credentialId: string): Promise<PasskeyRow | null> {
  if (!/^[A-Za-z0-9_-]{16,1400}$/.test(credentialId)) return null;
  const [r] = await sql<PasskeyRow[]>`SELECT ${
    COLS(sql)
  } FROM console_passkeys WHERE credential_id = ${credentialId}`;
  return r ?? null;
}

export async function addPasskey(
  sql: Sql,
  p: {
    userId: number;
    userName: string;
    credentialId: string;
    publicKey: Uint8Array;
    signCount: number;
    transports: string[];
    name: string;
    rpId: string;
  },
  actor: ActorRef,
): Promise<number> {
  return await sql.begin(async (tx) => {
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO console_passkeys (console_user_id, credential_id, public_key, sign_count, transports, name, rp_id)
      VALUES (${p.userId}, ${p.credentialId}, ${p.publicKey}, ${p.signCount}, ${p.transports}, ${p.name}, ${p.rpId})
      RETURNING id`;
    await writeAudit(
      tx,
      changeEvent(actor, "mfa.passkey_added", p.userName, { passkey: p.name, rp_id: p.rpId }),
    );
    return id;
  }) as number;
}

/**
 * Stores the counter of a successful assertion. False when it did not grow (and either value is not 0):
 * the credential was cloned, and the login must be refused.
 */
export async function advancePasskeyCounter(
  sql: Sql,
  id: number,
  counter: number,
  now: Date,
): Promise<boolean> {
  const r = await sql`UPDATE console_passkeys SET sign_count = ${counter}, last_used_at = ${now}
    WHERE id = ${id} AND ((${counter}::bigint = 0 AND sign_count = 0) OR ${counter}::bigint > sign_count)`;
  return r.count === 1;
}

/** Removes one passkey of an account (its own page); false when it is not that account's. Audited. */
export async function removePasskey(
  sql: Sql,
  userId: number,
  userName: string,
  id: number,
  actor: ActorRef,
): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const [gone] = await tx<{ name: string }[]>`
      DELETE FROM console_passkeys WHERE id = ${id} AND console_user_id = ${userId} RETURNING name`;
    if (gone) {
      await writeAudit(tx, changeEvent(actor, "mfa.passkey_removed", userName, { passkey: gone.name }));
    }
    return gone !== undefined;
  }) as boolean;
}

/** Removes every passkey of an account (an admin resetting a lost factor). Audited when there were any. */
export async function removeAllPasskeys(
  sql: Sql,
  userId: number,
  userName: string,
  actor: ActorRef,
): Promise<number> {
  return await sql.begin(async (tx) => {
    const gone = await tx<{ name: string }[]>`
      DELETE FROM console_passkeys WHERE console_user_id = ${userId} RETURNING name`;
    if (gone.length) {
      await writeAudit(
        tx,
        changeEvent(actor, "mfa.passkey_removed", userName, { passkeys: gone.map((g) => g.name) }),
      );
    }
    return gone.length;
  }) as number;
}

export type CeremonyPurpose = "register" | "login" | "second_factor";

export interface Ceremony {
  purpose: CeremonyPurpose;
  userId: number | null;
  challenge: string;
  rpId: string;
  origin: string;
}

const hashHandle = (h: string) => createHash("sha256").update(h).digest("hex");

/** Stores a ceremony for `ttlMs`; returns the random handle the browser keeps (cookie) to finish it. */
export async function startCeremony(sql: Sql, c: Ceremony, now: Date, ttlMs = 5 * 60_000): Promise<string> {
  const handle = randomBytes(32).toString("base64url");
  await sql`DELETE FROM webauthn_challenges WHERE expires_at <= ${now}`;
  await sql`INSERT INTO webauthn_challenges (handle_hash, purpose, console_user_id, challenge, rp_id, origin, expires_at)
    VALUES (${hashHandle(handle)}, ${c.purpose}, ${c.userId}, ${c.challenge}, ${c.rpId}, ${c.origin},
            ${new Date(now.getTime() + ttlMs)})`;
  return handle;
}

/** Takes (once) the live ceremony of a handle for a purpose; null when unknown, used or expired. */
export async function takeCeremony(
  sql: Sql,
  handle: string | undefined,
  purpose: CeremonyPurpose,
  now: Date,
): Promise<Ceremony | null> {
  if (!handle || handle.length > 100) return null;
  const [r] = await sql<
    {
      purpose: CeremonyPurpose;
      console_user_id: number | null;
      challenge: string;
      rp_id: string;
      origin: string;
    }[]
  >`DELETE FROM webauthn_challenges WHERE handle_hash = ${hashHandle(handle)} AND purpose = ${purpose}
      AND expires_at > ${now}
    RETURNING purpose, console_user_id, challenge, rp_id, origin`;
  return r
    ? {
      purpose: r.purpose,
      userId: r.console_user_id,
      challenge: r.challenge,
      rpId: r.rp_id,
      origin: r.origin,
    }
    : null;
}

/**
 * Whether an account may log in with a passkey alone. Directory and single sign-on accounts may not: their
 * directory or provider stays the authority on whether they may log in at all (a passkey is their second
 * factor only).
 */
export async function passwordlessAllowed(sql: Sql, userId: number): Promise<boolean> {
  const [r] = await sql<{ ok: boolean }[]>`
    SELECT directory_dn IS NULL AND oidc_subject IS NULL AS ok FROM console_users WHERE id = ${userId}`;
  return r?.ok ?? false;
}

export async function hasPasskey(sql: Sql, userId: number): Promise<boolean> {
  const [r] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM console_passkeys WHERE console_user_id = ${userId}`;
  return r.n > 0;
}
