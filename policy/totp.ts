// TOTP (RFC 6238) second factors, pure: secrets, otpauth:// URIs, and checking a code against the clock
// and the last time-step already used (a code is accepted once). SHA-1, 6 digits, 30 s: what every
// authenticator app reads from a QR code. Recovery codes are in recovery_codes.ts.
import { Secret, TOTP } from "otpauth";

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** codes from one step before or after the current one are accepted (clock drift) */
export const TOTP_WINDOW = 1;
const ISSUER = "jumphost";

function totp(secretBase32: string, label = "user"): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    secret: Secret.fromBase32(secretBase32),
    algorithm: "SHA1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  });
}

/** A new random secret (160 bits, RFC 4226's recommendation), base32 without padding. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app enrols from (the QR code's content). */
export function totpUri(secretBase32: string, account: string): string {
  return totp(secretBase32, account).toString();
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
}

/** The code for a moment (tests; `oathtool --totp -b SECRET` gives the same). */
export function totpCode(secretBase32: string, nowMs: number): string {
  return totp(secretBase32).generate({ timestamp: nowMs });
}

/** Six digits, spaces ignored ("123 456" as some apps show it). */
export function looksLikeTotpCode(input: string): boolean {
  return /^\d{6}$/.test(input.replace(/\s+/g, ""));
}

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: "malformed" | "wrong" | "reused" };

/**
 * Checks a code at `nowMs`. `lastStep` is the last time-step accepted for this secret: a code of that
 * step or an earlier one is refused as reused, so a code seen over a shoulder or replayed from a log is
 * worthless once used. The caller stores the returned step atomically (compare-and-set).
 */
export function checkTotp(
  secretBase32: string,
  input: string,
  nowMs: number,
  lastStep: number | null,
): TotpCheck {
  const code = input.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: "malformed" };
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  if (delta === null) return { ok: false, reason: "wrong" };
  const step = totpStep(nowMs) + delta;
  if (lastStep !== null && step <= lastStep) return { ok: false, reason: "reused" };
  return { ok: true, step };
}
