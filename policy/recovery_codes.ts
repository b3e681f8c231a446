// Recovery codes for a lost authenticator, pure: ten per factor, each good once. A code carries 60 random
// bits (12 base32 characters, shown as xxxx-xxxx-xxxx), so a fast hash (SHA-256) is enough at rest: a
// stolen table cannot be searched in any useful time, and checking one costs no scrypt.
import { createHash, randomBytes } from "node:crypto";

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: n }, () => {
    const bytes = randomBytes(12);
    let s = "";
    for (const b of bytes) s += ALPHABET[b & 31];
    return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
  });
}

/** The code as typed, normalised (case, dashes and spaces ignored); null when it cannot be one. */
export function normalizeRecoveryCode(input: string): string | null {
  const s = input.toLowerCase().replace(/[\s-]+/g, "");
  return /^[a-z2-7]{12}$/.test(s) ? s : null;
}

/** What is stored: hex SHA-256 of the normalised code. */
export function hashRecoveryCode(normalized: string): string {
  return createHash("sha256").update(`jumphost-recovery:${normalized}`).digest("hex");
}
