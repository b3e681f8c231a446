// Which keyboard-interactive prompts of a backend the jump password may answer (pure). Only one that asks
// for the account's password: never a one-time code ("Verification code:", "One-time password:", "Enter
// PASSCODE:"), a token, or a new password during a password change, where the jump password would be
// wrong at best and disclosed to a prompt that did not ask for it at worst.

/** Words for "password" in the PAM prompts of common locales. */
const ASKS_PASSWORD = /\b(password|passwort|passwd)\b|mot de passe|contraseña|senha|wachtwoord|lösenord/i;

/** A prompt mentioning one of these is not asking for the account's current password. */
const NOT_THE_PASSWORD =
  /one[- ]?time|\botp\b|passcode|token|verification|\bcode\b|\bpin\b|\bnew\b|again|retype|confirm|neues|nouveau/i;

export function isPasswordPrompt(prompt: { prompt: string; echo?: boolean }): boolean {
  if (prompt.echo) return false; // passwords are asked for without echo
  return ASKS_PASSWORD.test(prompt.prompt) && !NOT_THE_PASSWORD.test(prompt.prompt);
}
