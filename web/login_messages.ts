// What the console login pages and the passkey calls say when a login is refused.
export const MESSAGES = {
  bad_credentials: "Wrong name or password.",
  locked: "This account is locked after repeated failures. Try again later.",
  source_blocked: "Too many failed logins from your address. Try again later.",
  disabled: "This account is disabled.",
  bad_code: "Wrong or already used code.",
  challenge_expired: "The login took too long. Please log in again.",
  passkey_rejected: "That passkey was not accepted.",
  passwordless_not_allowed:
    "This account signs in through its directory or provider: use your password, then the passkey.",
} as const;
