import assert from "node:assert/strict";
import { isPasswordPrompt } from "./password_prompt.ts";

Deno.test("isPasswordPrompt(): the account's password prompt, as PAM and sshd write it", () => {
  for (
    const p of [
      "Password: ",
      "Password:",
      "password: ",
      "(alice@web1) Password: ",
      "alice@web1's password: ",
      "Password for alice@CORP.EXAMPLE: ",
      "Current password: ",
      "Passwort: ",
      "Mot de passe : ",
      "Contraseña: ",
    ]
  ) assert.ok(isPasswordPrompt({ prompt: p, echo: false }), p);
});

Deno.test("isPasswordPrompt(): never a code, a token, a new password, or an echoed prompt", () => {
  for (
    const p of [
      "Verification code: ",
      "Verification code:",
      "One-time password (OATH) for `alice': ",
      "One time password: ",
      "OTP: ",
      "Enter PASSCODE: ",
      "Passcode or option (1-3): ",
      "Token: ",
      "Enter your PIN: ",
      "New password: ",
      "Retype new password: ",
      "Enter new password again: ",
      "Confirm password: ",
      "Neues Passwort: ",
      "Nouveau mot de passe : ",
      "Duo two-factor login for alice",
      "",
      "Press enter to continue",
    ]
  ) assert.ok(!isPasswordPrompt({ prompt: p, echo: false }), p);
  assert.ok(!isPasswordPrompt({ prompt: "Password: ", echo: true }), "an echoed prompt is not a password's");
});
