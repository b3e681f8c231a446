// jumphost audit list [--since T] [--until T] [--user U] [--action A] [--actor A] [--failed] [--limit N] [--json]
// jumphost audit verify [--since T] [--allowed-keys FILE] [--json]
// jumphost audit checkpoint | public-key [--pem]
import { bool, int, list, parseArgs, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { json, printList } from "./output.ts";
import { parseTime } from "./time.ts";
import { trustedKeys } from "./trusted_keys.ts";
import { listAudit } from "../db/audit.ts";
import { verifyAuditChain } from "../db/audit_verify.ts";
import { writeCheckpoint } from "../db/audit_checkpoint.ts";
import { loadSigningKey } from "../core/signing_key.ts";

const USAGE =
  "jumphost audit list [--since T] [--until T] [--user U] [--actor A] [--action A|PREFIX.] [--failed] " +
  "[--source-ip CIDR] [--limit N] [--json]\n" +
  "       jumphost audit verify [--since T] [--allowed-keys FILE] [--json]\n" +
  "       jumphost audit checkpoint\n" +
  "       jumphost audit public-key [--pem]";

export const auditCommand: Command = {
  name: "audit",
  summary: "list audit log entries, verify the hash chain, sign a checkpoint",
  usage: USAGE,
  run(ctx, argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "list":
        return listCmd(ctx, rest);
      case "verify":
        return verifyCmd(ctx, rest);
      case "checkpoint":
        return checkpointCmd(ctx, rest);
      case "public-key":
        return publicKeyCmd(ctx, rest);
      default:
        throw new UsageError(sub ? `unknown subcommand "audit ${sub}"` : "missing subcommand");
    }
  },
};

async function listCmd(ctx: CommandContext, rest: string[]): Promise<number> {
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
}

/** Exit 0 when the chain is whole, 1 (with every problem named) when it is not. */
async function verifyCmd(ctx: CommandContext, rest: string[]): Promise<number> {
  const p = parseArgs(rest, { strings: ["since"], repeatable: ["allowed-keys"] });
  const since = str(p, "since");
  const report = await verifyAuditChain(await ctx.db(), {
    since: since ? parseTime("since", since) : undefined,
    trusted: await trustedKeys(ctx, list(p, "allowed-keys")),
  });
  if (bool(p, "json")) {
    ctx.out.line(json(report));
  } else {
    const range = report.rows ? ` (rows ${report.firstId}-${report.lastId})` : "";
    const cp = report.checkpoints.latest
      ? `, ${report.checkpoints.checked} signed checkpoint(s), the latest at row ${report.checkpoints.latest.lastId}`
      : ", no signed checkpoint yet";
    for (const pr of report.problems) ctx.out.error(`BROKEN ${pr.kind}: ${pr.message}`);
    ctx.out.line(
      `audit chain: ${report.rows} row(s)${range}${cp}: ` +
        (report.ok ? "verified" : `${report.problems.length} problem(s)`),
    );
  }
  return report.ok ? 0 : 1;
}

async function checkpointCmd(ctx: CommandContext, rest: string[]): Promise<number> {
  const p = parseArgs(rest, {});
  const key = await loadSigningKey(ctx.config.dataDir);
  const id = await writeCheckpoint(await ctx.db(), key, ctx.config.nodeId, { force: true });
  if (bool(p, "json")) ctx.out.line(json({ checkpoint: id, key: key.publicKey.fingerprint }));
  else ctx.out.line(`checkpoint ${id} signed with ${key.publicKey.fingerprint}`);
  return 0;
}

async function publicKeyCmd(ctx: CommandContext, rest: string[]): Promise<number> {
  const p = parseArgs(rest, { booleans: ["pem"] });
  const key = await loadSigningKey(ctx.config.dataDir);
  ctx.out.line(bool(p, "pem") ? key.publicKey.pem.trimEnd() : key.publicKey.openssh);
  return 0;
}
