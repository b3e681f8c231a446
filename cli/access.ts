// jumphost access check --source-ip IP --server S --protocol P [--login L] [--user U] [--at T]
import { bool, parseArgs, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, table } from "./output.ts";
import { parseTime } from "./time.ts";
import { explainAccess } from "../db/access.ts";
import { writeAudit } from "../db/audit.ts";
import { cliActor } from "../db/audit_events.ts";
import { isProtocol } from "../policy/model.ts";

const USAGE =
  "jumphost access check --source-ip IP --server S --protocol ssh|rdp [--login L] [--user U] [--at T] [--json]";

export const accessCommand: Command = {
  name: "access",
  summary: "explain the access decision for a source IP, server, protocol and login",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    if (sub !== "check") {
      throw new UsageError(sub ? `unknown subcommand "access ${sub}"` : "missing subcommand");
    }
    const p = parseArgs(rest, { strings: ["source-ip", "server", "protocol", "login", "user", "at"] });
    const sourceIp = str(p, "source-ip"), server = str(p, "server"), protocol = str(p, "protocol");
    if (!sourceIp || !server || !protocol) {
      throw new UsageError("--source-ip, --server and --protocol are required");
    }
    if (!isProtocol(protocol)) throw new UsageError("--protocol must be ssh or rdp");
    const at = str(p, "at");
    const now = at ? parseTime("at", at) : new Date();
    const sql = await ctx.db();
    const { decision, evaluations } = await explainAccess(
      sql,
      { sourceIp, serverName: server, protocol, login: str(p, "login") },
      now,
      { userName: str(p, "user") },
    );
    await writeAudit(sql, {
      actor: cliActor(),
      action: "access.check",
      target: server,
      sourceIp: null,
      success: true,
      details: { source_ip: sourceIp, protocol, login: str(p, "login"), allowed: decision.allowed },
    }, ctx.config.nodeId);
    if (bool(p, "json")) {
      ctx.out.line(json({ decision, evaluations: evaluations.map((e) => ({ ...e, text: e.text })) }));
      return decision.allowed ? 0 : 3;
    }
    if (decision.allowed) {
      ctx.out.line(
        `ALLOW ${decision.userName} → ${decision.serverName} over ${protocol} by policy ${decision.policyId}; ` +
          `logins ${decision.logins.join(",") || "any"}; port forwarding ${
            decision.portForwarding ? "yes" : "no"
          }; ` +
          `until ${decision.validUntil.toISOString()}`,
      );
    } else {
      ctx.out.line(`DENY (${decision.reason}): ${decision.detail}`);
    }
    if (evaluations.length) {
      ctx.out.line(
        table(["policy", "verdict", "why"], evaluations.map((e) => [e.policyId, e.verdict, e.text])),
      );
    }
    // distinct exit code for a denial so scripts can test access without parsing text
    return decision.allowed ? 0 : 3;
  },
};
