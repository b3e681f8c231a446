// jumphost nodes list [--json]: every serve registered on this database, its health (ok, late, lost,
// stopped: core/node_health.ts), last heartbeat age, addresses, version and open sessions.
import { bool, parseArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { printList } from "./output.ts";
import { listNodes } from "../db/nodes.ts";
import { nodeHealth } from "../core/node_health.ts";

const USAGE = "jumphost nodes [list] [--json]";

export const nodesCommand: Command = {
  name: "nodes",
  summary: "list the nodes (serve processes) sharing this database and their health",
  usage: USAGE,
  async run(ctx, argv) {
    const rest = argv[0] === "list" ? argv.slice(1) : argv;
    const p = parseArgs(rest);
    if (p.positionals.length) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
    const lostAfterMs = ctx.config.nodeLostAfter * 1000;
    const rows = (await listNodes(await ctx.db())).map((n) => ({
      name: n.name,
      health: nodeHealth(n.state, n.heartbeat_age_ms, lostAfterMs),
      state: n.state,
      heartbeat_age_s: Math.round(n.heartbeat_age_ms / 100) / 10,
      version: n.version,
      started_at: n.started_at,
      ssh_listen: n.ssh_listen,
      rdp_listen: n.rdp_listen,
      web_listen: n.web_listen,
      active_sessions: n.active_sessions,
      clock_skew_ms: n.clock_skew_ms,
      lost_at: n.lost_at,
      lost_by: n.lost_by,
    }));
    printList(
      ctx.out,
      bool(p, "json"),
      ["name", "health", "last beat", "version", "started", "ssh", "rdp", "web", "sessions"],
      rows.map((r) => [
        r.name,
        r.health,
        `${r.heartbeat_age_s}s ago`,
        r.version,
        r.started_at,
        r.ssh_listen.join(","),
        r.rdp_listen.join(","),
        r.web_listen.join(","),
        r.active_sessions,
      ]),
      rows,
    );
    return 0;
  },
};
