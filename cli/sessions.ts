// jumphost sessions [--active] [--user U] [--server S] [--limit N] [--json]
// jumphost sessions kill ID [--wait SECONDS] [--force]
// jumphost sessions show ID [--json]; jumphost sessions replay ID … (session_show.ts, session_replay.ts)
import { bool, int, parseArgs, positional, str, UsageError } from "./args.ts";
import { CliError, type Command } from "./command.ts";
import { type Cell, printList } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import { writeAudit } from "../db/audit.ts";
import { notifySessionKill } from "../db/notify.ts";
import { forceCloseSession, isSessionActive, listActiveSessions } from "../db/sessions.ts";
import { listSessions } from "../db/session_queries.ts";
import { resolveSession } from "./session_ref.ts";
import { SHOW_USAGE, showSession } from "./session_show.ts";
import { REPLAY_USAGE, replaySession } from "./session_replay.ts";
import { EXPORT_USAGE, exportSession } from "./session_export.ts";
import { FILE_USAGE, sessionFile } from "./session_file.ts";

const USAGE = "jumphost sessions [--active] [--user U] [--server S] [--limit N] [--json]\n" +
  "       jumphost sessions kill ID [--wait SECONDS] [--force]\n" +
  `       ${SHOW_USAGE}\n` +
  `       ${REPLAY_USAGE}\n` +
  `       ${EXPORT_USAGE}\n` +
  `       ${FILE_USAGE}`;

/** 3725 → "1h02m05s" */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "-";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}h${pad(m)}m${pad(r)}s` : m > 0 ? `${m}m${pad(r)}s` : `${r}s`;
}

const COMMON_HEADERS = ["id", "user", "source ip", "server", "login", "protocol", "started", "duration"];

interface SessionColumns {
  session_id: string;
  user_name: string | null;
  source_ip: string | null;
  server_name: string | null;
  ssh_login: string | null;
  protocol: string;
  started_at: Date | string;
  duration_seconds: number | null;
}

function commonColumns(r: SessionColumns): Cell[] {
  return [
    r.session_id,
    r.user_name,
    r.source_ip,
    r.server_name,
    r.ssh_login,
    r.protocol,
    r.started_at,
    formatDuration(r.duration_seconds),
  ];
}

export const sessionsCommand: Command = {
  name: "sessions",
  summary: "list SSH/RDP sessions (live or past), show, replay or export one, end a live one",
  usage: USAGE,
  async run(ctx, argv) {
    if (argv[0] === "kill") return await kill(ctx, argv.slice(1));
    if (argv[0] === "show") return await showSession(ctx, argv.slice(1), formatDuration);
    if (argv[0] === "replay") return await replaySession(ctx, argv.slice(1));
    if (argv[0] === "export") return await exportSession(ctx, argv.slice(1));
    if (argv[0] === "file") return await sessionFile(ctx, argv.slice(1));
    const rest = argv[0] === "list" ? argv.slice(1) : argv;
    const p = parseArgs(rest, { booleans: ["active"], strings: ["user", "server", "limit"] });
    if (p.positionals.length) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
    const sql = await ctx.db();
    const json = bool(p, "json");
    const user = str(p, "user"), server = str(p, "server");
    if (bool(p, "active")) {
      const rows = (await listActiveSessions(sql)).filter((r) =>
        (!user || r.user_name === user) && (!server || r.server_name === server)
      );
      const cols = rows.map((r) => [...commonColumns(r), r.subsystem, r.node_id]);
      printList(ctx.out, json, [...COMMON_HEADERS, "subsystem", "node"], cols, rows);
      return 0;
    }
    const rows = await listSessions(sql, { user, server, limit: int(p, "limit", 1, 1000) ?? 50 });
    const cols = rows.map((r) => [
      ...commonColumns(r),
      r.is_active ? "active" : r.termination_reason,
      r.recording_path,
    ]);
    printList(ctx.out, json, [...COMMON_HEADERS, "status", "recording"], cols, rows);
    return 0;
  },
};

async function kill(ctx: Parameters<Command["run"]>[0], argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["wait"], booleans: ["force"] });
  const ref = positional(p, 0, "session id");
  const waitS = int(p, "wait", 0, 300) ?? 5;
  const sql = await ctx.db();
  const s = await resolveSession(sql, ref);
  if (!s.is_active) throw new CliError(`session ${s.session_id} has already ended`);
  const actor = cliActor();
  await notifySessionKill(sql, { session_id: s.session_id, actor });
  await writeAudit(sql, {
    actor,
    action: "session.kill",
    target: s.session_id,
    success: true,
    details: { user: s.user_name, node: s.node_id },
  });
  const until = Date.now() + waitS * 1000;
  while (Date.now() < until) {
    if (!(await isSessionActive(sql, s.id))) {
      ctx.out.line(`session ${s.session_id} ended`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (await isSessionActive(sql, s.id)) {
    if (bool(p, "force")) {
      await forceCloseSession(
        sql,
        s.id,
        "killed",
        `forced closed by ${actor}: node ${s.node_id} did not respond`,
      );
      ctx.out.line(`session ${s.session_id} marked closed (node ${s.node_id} did not respond)`);
      return 0;
    }
    throw new CliError(
      `session ${s.session_id} is still active after ${waitS} s (is node ${s.node_id} running?); ` +
        "--force marks it closed",
    );
  }
  ctx.out.line(`session ${s.session_id} ended`);
  return 0;
}
