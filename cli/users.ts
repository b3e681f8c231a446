// jumphost user add|list|show|edit|disable|enable|delete
import { bool, list, parseArgs, positional, str, UsageError } from "./args.ts";
import { type Command } from "./command.ts";
import { json, printList, table } from "./output.ts";
import { readSecretStdin } from "./stdin_secret.ts";
import type { CommandContext } from "./context.ts";
import { cliActor } from "../db/audit_events.ts";
import { createUser, deleteUser, getUser, listUsers, updateUser, type UserRow } from "../db/users.ts";
import { listPolicies } from "../db/policies.ts";
import { USER_TOTP_USAGE, userTotpCommand } from "./totp.ts";

const USAGE =
  "jumphost user add NAME [--email E] [--full-name N] [--source-ip CIDR]... [--shared-source-ip CIDR]... " +
  "[--ssh-key FILE]... [--password-stdin]\n" +
  "       jumphost user list [--search TEXT] [--json]\n" +
  "       jumphost user show NAME [--json]\n" +
  "       jumphost user edit NAME [--email E] [--full-name N] [--add-source-ip CIDR]... [--remove-source-ip CIDR]... " +
  "[--add-ssh-key FILE]... [--remove-ssh-key FINGERPRINT]... [--password-stdin | --no-password] " +
  "[--mfa-required | --no-mfa-required]\n" +
  `       ${USER_TOTP_USAGE}\n` +
  "       jumphost user disable|enable|delete NAME";

async function readKeys(files: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(f);
    } catch (e) {
      throw new UsageError(`cannot read SSH key file ${f}: ${(e as Error).message}`);
    }
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    if (lines.length === 0) throw new UsageError(`SSH key file ${f} is empty`);
    keys.push(...lines);
  }
  return keys;
}

function showUser(ctx: CommandContext, u: UserRow) {
  ctx.out.line(table(["field", "value"], [
    ["name", u.name],
    ["full name", u.full_name],
    ["email", u.email],
    ["active", u.active],
    ["password", u.has_password ? "set" : "none"],
    ["TOTP", u.totp ?? "none"],
    ["MFA required", u.mfa_required],
    ["groups", u.groups.join(", ") || "-"],
    ["created", u.created_at],
  ]));
  ctx.out.line("\nsource IPs:");
  ctx.out.line(table(["cidr", "shared"], u.source_ips.map((s) => [s.cidr, s.shared])));
  ctx.out.line("\nSSH keys:");
  ctx.out.line(
    table(["type", "fingerprint", "comment"], u.ssh_keys.map((k) => [k.key_type, k.fingerprint, k.comment])),
  );
}

export const userCommand: Command = {
  name: "user",
  summary: "manage end users (source IPs, SSH keys, password)",
  usage: USAGE,
  async run(ctx, argv) {
    const sub = argv[0];
    const rest = argv.slice(1);
    const actor = cliActor();
    switch (sub) {
      case "add": {
        const p = parseArgs(rest, {
          strings: ["email", "full-name"],
          repeatable: ["source-ip", "shared-source-ip", "ssh-key"],
          booleans: ["password-stdin"],
        });
        const name = positional(p, 0, "NAME");
        const sshKeys = await readKeys(list(p, "ssh-key"));
        const password = bool(p, "password-stdin") ? await readSecretStdin() : null;
        const u = await createUser(
          await ctx.db(),
          {
            name,
            email: str(p, "email"),
            fullName: str(p, "full-name"),
            password,
            sourceIps: [
              ...list(p, "source-ip").map((cidr) => ({ cidr })),
              ...list(p, "shared-source-ip").map((cidr) => ({ cidr, shared: true })),
            ],
            sshKeys,
          },
          actor,
          password ? { secretKey: await ctx.secretKey() } : {},
        );
        if (bool(p, "json")) ctx.out.line(json(u));
        else {ctx.out.line(
            `user ${u.name} created (id ${u.id}, ${u.source_ips.length} source IPs, ${u.ssh_keys.length} keys)`,
          );}
        return 0;
      }
      case "list": {
        const p = parseArgs(rest, { strings: ["search"] });
        const users = await listUsers(await ctx.db(), { search: str(p, "search") });
        printList(
          ctx.out,
          bool(p, "json"),
          ["name", "full name", "email", "active", "source ips", "keys", "groups"],
          users.map((u) => [
            u.name,
            u.full_name,
            u.email,
            u.active,
            u.source_ips.map((s) => s.cidr + (s.shared ? "*" : "")).join(","),
            u.ssh_keys.length,
            u.groups.join(","),
          ]),
          users,
        );
        return 0;
      }
      case "show": {
        const p = parseArgs(rest);
        const sql = await ctx.db();
        const u = await getUser(sql, positional(p, 0, "NAME"));
        const policies = await listPolicies(sql, { user: u.name, status: "all", limit: 50 });
        if (bool(p, "json")) {
          ctx.out.line(json({ ...u, policies }));
          return 0;
        }
        showUser(ctx, u);
        ctx.out.line("\npolicies:");
        ctx.out.line(table(
          ["id", "status", "scope", "protocols", "logins", "until"],
          policies.map((
            x,
          ) => [x.id, x.status, x.scope, x.protocols.join(","), x.logins.join(",") || "any", x.valid_until]),
        ));
        return 0;
      }
      case "edit": {
        const p = parseArgs(rest, {
          strings: ["email", "full-name"],
          repeatable: [
            "add-source-ip",
            "add-shared-source-ip",
            "remove-source-ip",
            "add-ssh-key",
            "remove-ssh-key",
          ],
          booleans: ["password-stdin", "no-password", "mfa-required", "no-mfa-required"],
        });
        if (bool(p, "mfa-required") && bool(p, "no-mfa-required")) {
          throw new UsageError("--mfa-required and --no-mfa-required exclude each other");
        }
        const name = positional(p, 0, "NAME");
        if (bool(p, "password-stdin") && bool(p, "no-password")) {
          throw new UsageError("--password-stdin and --no-password exclude each other");
        }
        const password = bool(p, "password-stdin")
          ? await readSecretStdin()
          : bool(p, "no-password")
          ? null
          : undefined;
        const u = await updateUser(
          await ctx.db(),
          name,
          {
            email: str(p, "email"),
            fullName: str(p, "full-name"),
            password,
            addSourceIps: [
              ...list(p, "add-source-ip").map((cidr) => ({ cidr })),
              ...list(p, "add-shared-source-ip").map((cidr) => ({ cidr, shared: true })),
            ],
            removeSourceIps: list(p, "remove-source-ip"),
            addSshKeys: await readKeys(list(p, "add-ssh-key")),
            removeSshKeys: list(p, "remove-ssh-key"),
            mfaRequired: bool(p, "mfa-required") ? true : bool(p, "no-mfa-required") ? false : undefined,
          },
          actor,
          password ? { secretKey: await ctx.secretKey() } : {},
        );
        if (bool(p, "json")) ctx.out.line(json(u));
        else ctx.out.line(`user ${u.name} updated`);
        return 0;
      }
      case "disable":
      case "enable": {
        const p = parseArgs(rest);
        const u = await updateUser(
          await ctx.db(),
          positional(p, 0, "NAME"),
          { active: sub === "enable" },
          actor,
        );
        ctx.out.line(`user ${u.name} ${sub}d`);
        return 0;
      }
      case "totp":
        return await userTotpCommand(ctx, rest);
      case "delete": {
        const p = parseArgs(rest);
        const name = positional(p, 0, "NAME");
        await deleteUser(await ctx.db(), name, actor);
        ctx.out.line(`user ${name} deleted`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "user ${sub}"` : "missing subcommand");
    }
  },
};
