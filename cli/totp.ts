// jumphost user totp NAME --enrol|--reset and jumphost admin totp NAME --reset|--require|--optional.
// A CLI enrolment prints the secret, its otpauth:// URI (and a QR code on a terminal) and ten recovery
// codes once; the factor stays pending until the user's first correct code at the SSH prompt, which
// activates it. Console accounts enrol on their account page (the factor is active only after a code).
import { bool, parseArgs, positional, UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { json } from "./output.ts";
import { qrTerminal } from "../core/qr.ts";
import { cliActor } from "../db/audit_events.ts";
import { enrolTotp, type FactorOwner, resetTotp } from "../db/totp.ts";
import { getUser } from "../db/users.ts";
import { findConsoleUserByName, setConsoleMfaRequired } from "../db/console_users.ts";
import { removeAllPasskeys } from "../db/console_passkeys.ts";

export const USER_TOTP_USAGE = "jumphost user totp NAME --enrol [--json] | --reset";
export const ADMIN_TOTP_USAGE = "jumphost admin totp NAME --reset | --require | --optional";

function exactlyOne(p: ReturnType<typeof parseArgs>, flags: string[]): string {
  const given = flags.filter((f) => bool(p, f));
  if (given.length !== 1) {
    throw new UsageError(`give exactly one of ${flags.map((f) => `--${f}`).join(", ")}`);
  }
  return given[0];
}

export async function userTotpCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["enrol", "enroll", "reset"] });
  const name = positional(p, 0, "NAME");
  const what = exactlyOne(p, ["enrol", "enroll", "reset"]);
  const sql = await ctx.db();
  const u = await getUser(sql, name);
  const owner: FactorOwner = { kind: "user", id: u.id, name: u.name };
  if (what === "reset") {
    const had = await resetTotp(sql, owner, cliActor());
    ctx.out.line(
      had ? `user ${name}: TOTP factor and recovery codes removed` : `user ${name} had no TOTP factor`,
    );
    return 0;
  }
  const e = await enrolTotp(sql, await ctx.secretKey(), owner, cliActor());
  if (bool(p, "json")) {
    ctx.out.line(
      json({ name, secret: e.secret, uri: e.uri, recovery_codes: e.recoveryCodes, state: "pending" }),
    );
    return 0;
  }
  if (Deno.stdout.isTerminal()) ctx.out.line(await qrTerminal(e.uri));
  ctx.out.line(`user ${name}: TOTP enrolled (pending until the first correct code at the SSH prompt)`);
  ctx.out.line(`secret:  ${e.secret}`);
  ctx.out.line(`uri:     ${e.uri}`);
  ctx.out.line("recovery codes (each good once):");
  for (const c of e.recoveryCodes) ctx.out.line(`  ${c}`);
  ctx.out.line("(shown once: the secret is stored sealed, the recovery codes only as hashes)");
  return 0;
}

export async function adminTotpCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["reset", "require", "optional"] });
  const name = positional(p, 0, "NAME");
  const what = exactlyOne(p, ["reset", "require", "optional"]);
  const sql = await ctx.db();
  const u = await findConsoleUserByName(sql, name);
  if (!u) throw new CliError(`console user "${name}" not found`);
  if (what === "reset") {
    const had = await resetTotp(sql, { kind: "console", id: u.id, name: u.name }, cliActor());
    const keys = await removeAllPasskeys(sql, u.id, u.name, cliActor());
    ctx.out.line(
      had
        ? `console user ${name}: TOTP factor and recovery codes removed; they enrol again on their account page`
        : `console user ${name} had no TOTP factor`,
    );
    if (keys) ctx.out.line(`console user ${name}: ${keys} passkey(s) removed`);
    return 0;
  }
  await setConsoleMfaRequired(sql, name, what === "require", { actor: cliActor() });
  ctx.out.line(`console user ${name}: second factor ${what === "require" ? "required" : "optional"}`);
  return 0;
}
