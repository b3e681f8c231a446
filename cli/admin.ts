// jumphost admin add|list|reset-password|delete: web console accounts. A new account, or a reset one, gets a
// random password printed once, which it must replace with its own at its next console login.
import { bool, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import {
  CONSOLE_ROLES,
  type ConsoleRole,
  createConsoleUser,
  deleteConsoleUser,
  isConsoleRole,
  listConsoleUsers,
  setConsolePassword,
} from "../db/console_users.ts";
import { hashPassword, randomPassword } from "../policy/password.ts";
import { ADMIN_TOTP_USAGE, adminTotpCommand } from "./totp.ts";

const USAGE = "jumphost admin add NAME [--role admin|operator|auditor] [--json]\n" +
  "       jumphost admin list [--json]\n" +
  "       jumphost admin reset-password NAME [--json]   (new random password; their console sessions end)\n" +
  "       jumphost admin delete NAME\n" +
  `       ${ADMIN_TOTP_USAGE}   (reset a lost factor; require or not a second factor)`;

export const adminCommand: Command = {
  name: "admin",
  summary: "manage web console accounts (random password printed once)",
  usage: USAGE,
  async run(ctx, argv) {
    const sub = argv[0];
    const rest = argv.slice(1);
    switch (sub) {
      case "add": {
        const p = parseArgs(rest, { strings: ["role"] });
        const name = positional(p, 0, "NAME");
        if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
        const role = str(p, "role") ?? "admin";
        if (!isConsoleRole(role)) throw new UsageError(`--role must be one of ${CONSOLE_ROLES.join(", ")}`);
        const password = randomPassword();
        const u = await createConsoleUser(await ctx.db(), {
          name,
          role: role as ConsoleRole,
          passwordHash: await hashPassword(password),
          mustChangePassword: true,
        }, { actor: cliActor() });
        if (bool(p, "json")) ctx.out.line(json({ name: u.name, role: u.role, password }));
        else {
          ctx.out.line(`console user ${u.name} created with role ${u.role}`);
          ctx.out.line(`password: ${password}`);
          ctx.out.line(
            "(shown once; it is stored only as a scrypt hash; they choose their own at first login)",
          );
        }
        return 0;
      }
      case "list": {
        const p = parseArgs(rest);
        const users = await listConsoleUsers(await ctx.db());
        printList(
          ctx.out,
          bool(p, "json"),
          ["name", "role", "active", "last login", "locked until", "must change password"],
          users.map((
            u,
          ) => [u.name, u.role, u.active, u.last_login_at, u.locked_until, u.must_change_password]),
          users,
        );
        return 0;
      }
      case "reset-password": {
        const p = parseArgs(rest);
        const name = positional(p, 0, "NAME");
        if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
        const password = randomPassword();
        const r = await setConsolePassword(await ctx.db(), name, await hashPassword(password), {
          actor: cliActor(),
        }, { action: "console.password_reset" });
        if (bool(p, "json")) ctx.out.line(json({ name, password, sessions_ended: r.sessionsEnded }));
        else {
          ctx.out.line(`console user ${name}: password reset, ${r.sessionsEnded} console session(s) ended`);
          ctx.out.line(`password: ${password}`);
          ctx.out.line("(shown once; it is stored only as a scrypt hash)");
        }
        return 0;
      }
      case "totp":
        return await adminTotpCommand(ctx, rest);
      case "delete": {
        const p = parseArgs(rest);
        const name = positional(p, 0, "NAME");
        await deleteConsoleUser(await ctx.db(), name, { actor: cliActor() });
        ctx.out.line(`console user ${name} deleted`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "admin ${sub}"` : "missing subcommand");
    }
  },
};
