// jumphost search TEXT [--since 7d|T] [--limit N] [--json]   who ran TEXT, where, when
// jumphost search reindex [--since 7d|T]                     rebuild the index from the recordings
import { recordingKeys } from "../core/recording_identity.ts";
import { bool, int, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { printList } from "./output.ts";
import { parseTime } from "./time.ts";
import { searchCommands, sessionsToIndex } from "../db/session_commands.ts";
import { indexSessionCommandsOf } from "../recorder/command_index.ts";

const USAGE = "jumphost search TEXT [--since 7d|12h|TIME] [--limit N] [--json]\n" +
  "       jumphost search reindex [--since 7d|12h|TIME]";

export const searchCommand: Command = {
  name: "search",
  summary: "find who ran a command, where and when (typed in a terminal or run by exec)",
  usage: USAGE,
  run(ctx, argv) {
    if (argv[0] === "reindex") return reindex(ctx, argv.slice(1));
    return find(ctx, argv);
  },
};

/** `7d`, `12h`, `30m` back from now, or a time. */
export function parseSince(text: string, now: Date): Date {
  const m = /^(\d{1,5})([dhm])$/.exec(text.trim());
  if (!m) return parseTime("since", text);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as "d" | "h" | "m"];
  return new Date(now.getTime() - Number(m[1]) * unit);
}

async function find(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["since", "limit"] });
  const text = positional(p, 0, "TEXT");
  if (p.positionals.length > 1) {
    throw new UsageError(`unexpected argument "${p.positionals[1]}" (quote the text)`);
  }
  // trigrams index 3 characters and more; a shorter text that rarely matches would read every line
  if ([...text.trim()].length < 3) throw new UsageError("the search text needs at least 3 characters");
  const since = str(p, "since");
  const hits = await searchCommands(await ctx.db(), {
    text,
    since: since ? parseSince(since, new Date()) : undefined,
    limit: int(p, "limit", 1, 1000) ?? 100,
  });
  printList(
    ctx.out,
    bool(p, "json"),
    ["time", "user", "server", "login", "session", "how", "command"],
    hits.map((h) => [h.at, h.user_name, h.server_name, h.ssh_login, h.session_id, h.kind, h.text]),
    hits,
  );
  return 0;
}

async function reindex(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["since"] });
  const since = str(p, "since");
  const sql = await ctx.db();
  const sessions = await sessionsToIndex(sql, since ? parseSince(since, new Date()) : null);
  let commands = 0;
  const keys = recordingKeys(ctx.config.dataDir);
  for (const s of sessions) commands += await indexSessionCommandsOf(sql, s.id, keys);
  ctx.out.line(`indexed ${commands} commands of ${sessions.length} sessions`);
  return 0;
}
