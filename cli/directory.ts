// jumphost directory sync [--dry-run]: bring directory (LDAP) users, groups and keys into jumphost now.
import type { Command } from "./command.ts";
import { CliError } from "./command.ts";
import { parseArgs } from "./args.ts";
import { cliActor } from "../db/audit_events.ts";
import { syncDirectory } from "../app/directory_sync.ts";

export const directoryCommand: Command = {
  name: "directory",
  summary: "sync users, groups and SSH keys from the directory (LDAP)",
  usage: "jumphost directory sync [--dry-run]",
  async run(ctx, argv) {
    const a = parseArgs(argv, { booleans: ["dry-run"] });
    if (a.positionals[0] !== "sync" || a.positionals.length !== 1) {
      throw new CliError("usage: jumphost directory sync [--dry-run]");
    }
    const ldap = ctx.config.ldap;
    if (!ldap) throw new CliError("no directory configured (set ldap_url in the configuration)");
    const dry = a.flags["dry-run"] === true;
    const changes = await syncDirectory(await ctx.db(), ldap, cliActor(), dry);
    for (const c of changes) ctx.out.line(c);
    ctx.out.line(`${dry ? "dry run: would make" : "made"} ${changes.length} change(s)`);
    return 0;
  },
};
