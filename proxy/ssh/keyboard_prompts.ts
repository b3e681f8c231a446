// The jump's own keyboard-interactive prompts (RFC 4256): its password, and the verification code of a
// second factor. An aborted or malformed answer is null.
import type { KeyboardAuth } from "./ssh2_types.ts";

export function askPassword(ctx: KeyboardAuth): Promise<string | null> {
  return new Promise((resolve) => {
    ctx.on("abort", () => resolve(null));
    ctx.prompt([{ prompt: "Password: ", echo: false }], "", "", (answers) => {
      resolve(answers.length === 1 && typeof answers[0] === "string" ? answers[0] : null);
    });
  });
}

export function askCode(ctx: KeyboardAuth): Promise<string | null> {
  return new Promise((resolve) => {
    ctx.on("abort", () => resolve(null));
    ctx.prompt([{ prompt: "Verification code: ", echo: false }], "", "", (answers) => {
      const a = answers.length === 1 && typeof answers[0] === "string" ? answers[0].trim() : null;
      resolve(a === null || a.length === 0 || a.length > 64 ? null : a);
    });
  });
}
