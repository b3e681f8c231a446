// jumphost pool apply|list: puts the servers' pool IPs on an interface (and takes released ones off), so
// IP-per-server routing works after a reboot. The systemd unit runs `pool apply` before `serve`.
import { bool, parseArgs, str, UsageError } from "./args.ts";
import { CliError, type Command } from "./command.ts";
import { json, printList } from "./output.ts";
import { listServers, poolAllocations } from "../db/servers.ts";
import { listAddresses, NetProbeError, runIp } from "../app/net_probe.ts";
import { ipWithHostPrefix, planPool } from "./pool_plan.ts";

const USAGE = "jumphost pool apply [--dev IFACE] [--dry-run] [--json] | jumphost pool list [--json]";
const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

export const poolCommand: Command = {
  name: "pool",
  summary: "put pool IPs on an interface (apply) or list allocations",
  usage: USAGE,
  async run(ctx, argv) {
    const p = parseArgs(argv, { booleans: ["dry-run"], strings: ["dev"] });
    const sub = p.positionals[0];
    if (sub === "list") {
      const sql = await ctx.db();
      const [rows, addrs] = await Promise.all([poolAllocations(sql), listAddresses()]);
      const on = (ip: string) => addrs.filter((a) => a.local === ip).map((a) => a.ifname).join(",") || null;
      const raw = rows.map((r) => ({ ...r, interface: on(r.ip) }));
      printList(
        ctx.out,
        bool(p, "json"),
        ["ip", "server", "allocated", "released", "interface"],
        raw.map((r) => [r.ip, r.server, r.allocated_at, r.released_at, r.interface]),
        raw,
      );
      return 0;
    }
    if (sub !== "apply") {
      throw new UsageError(sub ? `unknown subcommand "pool ${sub}"` : "missing subcommand");
    }
    const dev = str(p, "dev") ?? "lo";
    if (!IFACE.test(dev)) throw new UsageError(`--dev "${dev}" is not an interface name`);
    const sql = await ctx.db();
    const [servers, allocs, addrs] = await Promise.all([
      listServers(sql),
      poolAllocations(sql),
      listAddresses(),
    ]);
    if (!addrs.some((a) => a.ifname === dev) && !(await linkExists(dev))) {
      throw new CliError(`no network interface "${dev}"`);
    }
    const wanted = servers.filter((s) => s.pool_ip).map((s) => ({ ip: s.pool_ip!, server: s.name }));
    const released = allocs.filter((a) => a.released_at !== null).map((a) => a.ip);
    const plan = planPool(wanted, released, addrs, dev);
    const dry = bool(p, "dry-run");
    const done: { action: "add" | "remove"; ip: string; server?: string }[] = [];
    for (const a of plan.add) {
      if (!dry) await runIp(["addr", "add", ipWithHostPrefix(a.ip), "dev", dev]).catch(permission);
      done.push({ action: "add", ip: a.ip, server: a.server });
    }
    for (const r of plan.remove) {
      if (!dry) await runIp(["addr", "del", `${r.local}/${r.prefixlen}`, "dev", dev]).catch(permission);
      done.push({ action: "remove", ip: r.local });
    }
    if (bool(p, "json")) {
      ctx.out.line(json({ dev, dry_run: dry, changes: done, present: plan.present }));
      return 0;
    }
    const verb = (a: string) => dry ? `would ${a}` : a === "add" ? "added" : "removed";
    for (const d of done) {
      ctx.out.line(
        `${verb(d.action)} ${d.ip} ${d.action === "add" ? "to" : "from"} ${dev}${
          d.server ? ` (${d.server})` : ""
        }`,
      );
    }
    ctx.out.line(
      `pool: ${plan.present.length} already present, ${plan.add.length} ${dry ? "to add" : "added"}, ` +
        `${plan.remove.length} ${dry ? "to remove" : "removed"} on ${dev}`,
    );
    return 0;
  },
};

async function linkExists(dev: string): Promise<boolean> {
  try {
    await runIp(["link", "show", "dev", dev]);
    return true;
  } catch (_e) {
    return false;
  }
}

function permission(e: unknown): never {
  if (e instanceof NetProbeError && /Operation not permitted/.test(e.message)) {
    throw new CliError(`${e.message} (adding addresses needs root or CAP_NET_ADMIN)`);
  }
  throw e;
}
