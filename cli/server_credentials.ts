// jumphost server credential NAME --user LOGIN --password-stdin | --remove --user LOGIN
// jumphost server credentials NAME [--json]
// The vault of Windows credentials the RDP proxy injects toward a server (db/server_credentials.ts).
import { bool, parseArgs, positional, str, UsageError } from "./args.ts";
import type { CommandContext } from "./context.ts";
import { printList } from "./output.ts";
import {
  listServerCredentials,
  removeServerCredential,
  setServerCredential,
} from "../db/server_credentials.ts";
import { readSecretStdin } from "./stdin_secret.ts";

export const CREDENTIAL_USAGE = "jumphost server credential NAME --user 'DOMAIN\\LOGIN' --password-stdin\n" +
  "       jumphost server credential NAME --remove --user 'DOMAIN\\LOGIN'\n" +
  "       jumphost server credentials NAME [--json]";

export async function credentialCommand(ctx: CommandContext, argv: string[], actor: string): Promise<number> {
  const p = parseArgs(argv, { strings: ["user"], booleans: ["password-stdin", "remove"] });
  const name = positional(p, 0, "NAME");
  const login = str(p, "user");
  if (!login) throw new UsageError("--user LOGIN is required (DOMAIN\\user, user@domain or user)");
  if (bool(p, "remove")) {
    if (bool(p, "password-stdin")) throw new UsageError("--remove and --password-stdin exclude each other");
    await removeServerCredential(await ctx.db(), name, login, actor);
    ctx.out.line(`credential for ${login} removed from server ${name}`);
    return 0;
  }
  if (!bool(p, "password-stdin")) {
    throw new UsageError("give the password on standard input with --password-stdin (or --remove)");
  }
  const password = await readSecretStdin();
  const r = await setServerCredential(await ctx.db(), await ctx.secretKey(), name, login, password, actor);
  ctx.out.line(`credential for ${login} ${r.replaced ? "replaced" : "stored"} on server ${name}`);
  return 0;
}

export async function credentialsListCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  const rows = await listServerCredentials(await ctx.db(), positional(p, 0, "NAME"));
  printList(
    ctx.out,
    bool(p, "json"),
    ["login", "set by", "set at"],
    rows.map((r) => [r.login, r.set_by, r.set_at]),
    rows,
  );
  return 0;
}
