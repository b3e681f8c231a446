// jumphost policy list|show|revoke|delete
import { bool, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList, table } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import {
  deletePolicy,
  getPolicy,
  listPolicies,
  type PolicyStatusFilter,
  revokePolicy,
} from "../db/policies.ts";

const USAGE =
  "jumphost policy list [--status active|pending|expired|revoked|all] [--user U] [--server S] [--json]\n" +
  "       jumphost policy show ID [--json]\n" +
  "       jumphost policy revoke ID [--reason TEXT]\n" +
  "       jumphost policy delete ID";

function policyId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new UsageError(`policy ID "${text}" is not a number`);
  return Number(text);
}

export const policyCommand: Command = {
  name: "policy",
  summary: "list, show, revoke and delete access policies",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "list": {
        const p = parseArgs(rest, { strings: ["status", "user", "server"] });
        const status = (str(p, "status") ?? "all") as PolicyStatusFilter;
        if (!["active", "pending", "expired", "revoked", "all"].includes(status)) {
          throw new UsageError("--status must be active, pending, expired, revoked or all");
        }
        const rows = await listPolicies(await ctx.db(), {
          status,
          user: str(p, "user"),
          server: str(p, "server"),
        });
        printList(
          ctx.out,
          bool(p, "json"),
          ["id", "status", "subject", "scope", "protocols", "logins", "fwd", "from", "until", "schedule"],
          rows.map((r) => [
            r.id,
            r.status,
            (r.subject_kind === "user_group" ? "@" : "") + r.subject,
            (r.scope_kind === "server_group" ? "group:" : "") + r.scope,
            r.protocols.join(","),
            r.logins.join(",") || "any",
            r.port_forwarding,
            r.valid_from,
            r.valid_until,
            r.schedules.join("; ") || "-",
          ]),
          rows,
        );
        return 0;
      }
      case "show": {
        const p = parseArgs(rest);
        const r = await getPolicy(await ctx.db(), policyId(positional(p, 0, "ID")));
        if (bool(p, "json")) ctx.out.line(json(r));
        else {
          ctx.out.line(table(
            ["field", "value"],
            Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") || "-" : v as string]),
          ));
        }
        return 0;
      }
      case "revoke": {
        const p = parseArgs(rest, { strings: ["reason"] });
        const r = await revokePolicy(
          await ctx.db(),
          policyId(positional(p, 0, "ID")),
          cliActor(),
          str(p, "reason") ?? null,
        );
        ctx.out.line(`policy ${r.id} revoked`);
        return 0;
      }
      case "delete": {
        const p = parseArgs(rest);
        const id = policyId(positional(p, 0, "ID"));
        await deletePolicy(await ctx.db(), id, cliActor());
        ctx.out.line(`policy ${id} deleted`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "policy ${sub}"` : "missing subcommand");
    }
  },
};
