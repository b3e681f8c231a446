// jumphost sessions show ID [--json]: one session with what it did, its recordings and their MP4 state.
import { bool, parseArgs, positional, UsageError } from "./args.ts";
import type { CommandContext } from "./context.ts";
import { json } from "./output.ts";
import { resolveSession } from "./session_ref.ts";
import { type RecordingDetail, renderDetail, type SessionDetail } from "./session_detail.ts";
import type { Sql } from "../db/client.ts";
import { latestConversionOf } from "../db/conversions.ts";
import { recordingsOfSession, type SessionRow } from "../db/session_queries.ts";

export const SHOW_USAGE = "jumphost sessions show ID [--json]";

export async function loadDetail(sql: Sql, s: SessionRow): Promise<SessionDetail> {
  const recordings: RecordingDetail[] = [];
  for (const r of await recordingsOfSession(sql, s.id)) {
    let fileSize: number | null = null, fileError: string | null = null;
    try {
      fileSize = (await Deno.stat(r.path)).size;
    } catch (e) {
      fileError = e instanceof Deno.errors.NotFound ? "file missing" : `unreadable: ${(e as Error).message}`;
    }
    const c = r.kind === "rdp" ? await latestConversionOf(sql, r.id) : null;
    recordings.push({
      ...r,
      file_size: fileSize,
      file_error: fileError,
      conversion: c &&
        {
          id: c.id,
          state: c.state,
          progress: c.progress,
          error: c.error,
          output_path: c.output_path,
          finished_at: c.finished_at,
        },
    });
  }
  return { ...s, recordings };
}

export async function showSession(
  ctx: CommandContext,
  argv: string[],
  formatDuration: (s: number | null) => string,
): Promise<number> {
  const p = parseArgs(argv);
  const ref = positional(p, 0, "session id");
  if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
  const sql = await ctx.db();
  const detail = await loadDetail(sql, await resolveSession(sql, ref));
  ctx.out.line(bool(p, "json") ? json(detail) : renderDetail(detail, formatDuration));
  return 0;
}
