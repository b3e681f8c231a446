// jumphost grant USER|@USERGROUP (--server S | --group G) [--protocol P] [--login L]... [--port-forwarding]
// [--require-mfa]
//                (--duration MINUTES | --from T --until T)
import { bool, int, list, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json } from "./output.ts";
import { parseTime } from "./time.ts";
import { cliActor } from "../db/audit_events.ts";
import { createPolicy } from "../db/policies.ts";

const USAGE = "jumphost grant USER|@USERGROUP (--server S | --group G) [--protocol ssh|rdp] [--login L]... " +
  "[--port-forwarding] [--require-mfa] [--schedule 'DAYS HH:MM-HH:MM ZONE']... " +
  "(--duration MINUTES | --from T --until T | --until T)";

export const grantCommand: Command = {
  name: "grant",
  summary: "grant a user or user group time-bounded access (creates a policy)",
  usage: USAGE,
  async run(ctx, argv) {
    const p = parseArgs(argv, {
      strings: ["server", "group", "protocol", "duration", "from", "until"],
      repeatable: ["login", "schedule"],
      booleans: ["port-forwarding", "require-mfa"],
    });
    const who = positional(p, 0, "USER or @USERGROUP");
    if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
    const server = str(p, "server"), group = str(p, "group");
    if ((server === undefined) === (group === undefined)) {
      throw new UsageError("give exactly one of --server or --group");
    }
    const protocol = str(p, "protocol");
    if (protocol !== undefined && protocol !== "ssh" && protocol !== "rdp") {
      throw new UsageError("--protocol must be ssh or rdp");
    }
    const duration = int(p, "duration", 1, 60 * 24 * 366 * 10);
    const fromText = str(p, "from"), untilText = str(p, "until");
    if (duration !== undefined && untilText !== undefined) {
      throw new UsageError("give either --duration or --until, not both");
    }
    if (duration === undefined && untilText === undefined) {
      throw new UsageError("give --duration MINUTES or --until T");
    }
    const validFrom = fromText ? parseTime("from", fromText) : new Date();
    const validUntil = untilText
      ? parseTime("until", untilText)
      : new Date(validFrom.getTime() + duration! * 60_000);
    const pol = await createPolicy(await ctx.db(), {
      user: who.startsWith("@") ? undefined : who,
      userGroup: who.startsWith("@") ? who.slice(1) : undefined,
      server,
      serverGroup: group,
      protocols: protocol ? [protocol] : undefined,
      logins: list(p, "login"),
      portForwarding: bool(p, "port-forwarding"),
      requireMfa: bool(p, "require-mfa"),
      schedules: list(p, "schedule"),
      validFrom,
      validUntil,
    }, cliActor());
    if (bool(p, "json")) ctx.out.line(json(pol));
    else {
      ctx.out.line(
        `policy ${pol.id}: ${pol.subject_kind === "user_group" ? "@" : ""}${pol.subject} → ` +
          `${pol.scope_kind === "server_group" ? "group " : ""}${pol.scope} ` +
          `[${pol.protocols.join(",")}] logins ${pol.logins.join(",") || "any"}` +
          `${pol.port_forwarding ? ", port forwarding" : ""}${pol.require_mfa ? ", MFA required" : ""}, ` +
          `valid ${pol.valid_from.toISOString()} → ${pol.valid_until.toISOString()} (UTC)` +
          (pol.schedules.length ? `, only ${pol.schedules.join("; ")}` : ""),
      );
    }
    return 0;
  },
};
