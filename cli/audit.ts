// jumphost audit list [--since T] [--until T] [--user U] [--action A] [--actor A] [--failed] [--limit N] [--json]
import { bool, int, parseArgs, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { printList } from "./output.ts";
import { parseTime } from "./time.ts";
import { listAudit } from "../db/audit.ts";

const USAGE =
  "jumphost audit list [--since T] [--until T] [--user U] [--actor A] [--action A|PREFIX.] [--failed] " +
  "[--source-ip CIDR] [--limit N] [--json]";

export const auditCommand: Command = {
  name: "audit",
  summary: "list audit log entries",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    if (sub !== "list") {
      throw new UsageError(sub ? `unknown subcommand "audit ${sub}"` : "missing subcommand");
    }
    const p = parseArgs(rest, {
      strings: ["since", "until", "user", "actor", "action", "limit", "source-ip"],
      booleans: ["failed"],
    });
    const since = str(p, "since"), until = str(p, "until");
    const rows = await listAudit(await ctx.db(), {
      since: since ? parseTime("since", since) : undefined,
      until: until ? parseTime("until", until) : undefined,
      user: str(p, "user"),
      actor: str(p, "actor"),
      action: str(p, "action"),
      success: bool(p, "failed") ? false : undefined,
      sourceIp: str(p, "source-ip"),
      limit: int(p, "limit", 1, 10_000) ?? 100,
    });
    printList(
      ctx.out,
      bool(p, "json"),
      ["time", "actor", "action", "target", "source ip", "ok", "details"],
      rows.map((r) => [r.at, r.actor, r.action, r.target, r.source_ip, r.success, JSON.stringify(r.details)]),
      rows,
    );
    return 0;
  },
};
