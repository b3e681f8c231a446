// jumphost sessions replay ID [--speed N] [--idle-limit S|none] [--cat] [--follow]
// Plays an SSH session's asciicast recordings to stdout, one after the other: output events only, with the
// recorded timing (scaled, long pauses capped), at once with --cat, or live with --follow (what is already
// recorded at once, then new output as the proxy writes it, until the session ends).
import { followRecording, openRecordingSource, type RecordingSource } from "../recorder/recording_read.ts";
import { recordingKeys } from "../core/recording_identity.ts";
import { bool, parseArgs, positional, str, UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { readLines } from "./cast_lines.ts";
import { CastLineError, parseCastEvent, parseCastHeader, parseIdleLimit, parseSpeed } from "./cast_player.ts";
import { CastSchedule, type ScheduleOptions } from "./cast_player.ts";
import { resolveSession } from "./session_ref.ts";
import type { Sql } from "../db/client.ts";
import { isSessionActive } from "../db/sessions.ts";
import { writeAudit } from "../db/audit.ts";
import { cliActor } from "../db/audit_events.ts";
import { type RecordingRow, recordingsOfSession } from "../db/session_queries.ts";

export const REPLAY_USAGE =
  "jumphost sessions replay ID [--speed N] [--idle-limit SECONDS|none] [--cat] [--follow]";

const POLL_MS = 200;
const FLUSH_BYTES = 64 * 1024;
const MAX_WARNINGS = 10;

interface Mode {
  /** null: print at once (--cat, --follow) */
  timing: ScheduleOptions | null;
  follow: boolean;
}

export async function replaySession(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["cat", "follow"], strings: ["speed", "idle-limit"] });
  const ref = positional(p, 0, "session id");
  if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
  const speedText = str(p, "speed"), idleText = str(p, "idle-limit");
  const speed = speedText === undefined ? 1 : parseSpeed(speedText);
  if (speed === null) throw new UsageError("--speed must be a number from 0.01 to 1000");
  const idleLimit = idleText === undefined ? 2 : parseIdleLimit(idleText);
  if (idleLimit === undefined) throw new UsageError("--idle-limit must be seconds (0.01 to 86400) or none");
  const cat = bool(p, "cat") || bool(p, "follow");
  if (cat && (speedText !== undefined || idleText !== undefined)) {
    throw new UsageError("--speed and --idle-limit set the pace of a timed replay, not of --cat or --follow");
  }
  const sql = await ctx.db();
  const s = await resolveSession(sql, ref);
  if (s.protocol !== "ssh") {
    throw new CliError(
      `session ${s.session_id} is an RDP session, which replay cannot play in a terminal; ` +
        `convert it to MP4 with: jumphost recordings convert ${s.session_id}`,
    );
  }
  // reading a recording is audited wherever it happens (the console audits its player and downloads)
  await writeAudit(sql, {
    actor: cliActor(),
    action: "recording.download",
    target: s.session_id,
    success: true,
    details: { format: "asciicast", via: bool(p, "follow") ? "cli replay --follow" : "cli replay" },
  });
  let follow = bool(p, "follow");
  if (follow && !s.is_active) {
    ctx.out.error(`jumphost: session ${s.session_id} has ended; printing its recording`);
    follow = false;
  }
  const mode: Mode = { timing: cat ? null : { speed, idleLimit }, follow };
  const sink = new StdoutSink();
  const played = new Set<number>();
  try {
    for (;;) {
      // asked before listing: recordings are only added while the session is active, so none is missed
      const active = mode.follow && await isSessionActive(sql, s.id);
      const next = (await recordingsOfSession(sql, s.id)).find((r) =>
        !played.has(r.id) && r.kind === "asciicast"
      );
      if (next) {
        played.add(next.id);
        await playRecording(ctx, sql, s.id, next, mode, sink);
        continue;
      }
      if (!active) break;
      await sink.flush();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await sink.flush();
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) return 0; // the reader went away (| head): nothing to tell it
    throw e;
  }
  if (played.size === 0) {
    throw new CliError(
      `session ${s.session_id} has no recording (file transfers are not recorded as terminals: see the session's transfers)`,
    );
  }
  return 0;
}

async function playRecording(
  ctx: CommandContext,
  sql: Sql,
  sessionRowId: number,
  rec: RecordingRow,
  mode: Mode,
  sink: StdoutSink,
): Promise<void> {
  const schedule = mode.timing ? new CastSchedule(mode.timing) : null;
  let startedAt = performance.now(), lineNo = 0, warnings = 0, noted = false;
  const warn = (msg: string) => {
    if (++warnings <= MAX_WARNINGS) {
      ctx.out.error(`jumphost: warning: ${rec.path} line ${lineNo}: ${msg}; skipped`);
    }
  };
  // following: keep waiting at EOF while the session and this recording are open
  const more = async () => {
    await sink.flush();
    if (!mode.follow) return false;
    const recs = await recordingsOfSession(sql, sessionRowId);
    const self = recs.find((r) => r.id === rec.id);
    if (!noted && recs.some((r) => r.id > rec.id && r.kind === "asciicast")) {
      noted = true;
      ctx.out.error("jumphost: the session opened another recorded channel; it plays after this one ends");
    }
    return !!self && self.ended_at === null && await isSessionActive(sql, sessionRowId);
  };
  let file: RecordingSource;
  try {
    // an encrypted recording (.age) is decrypted with the appliance's identity; one still being written
    // is followed chunk by chunk, a finished one read whole (a cut-off file is then an error, not an end)
    const keys = recordingKeys(ctx.config.dataDir);
    file = mode.follow && rec.ended_at === null
      ? await followRecording(rec.path, keys)
      : await openRecordingSource(rec.path, keys);
  } catch (e) {
    throw new CliError(`cannot read recording ${rec.path}: ${(e as Error).message}`);
  }
  try {
    for await (
      const item of readLines(file, { more, pollMs: POLL_MS, dropPartialTail: rec.ended_at === null })
    ) {
      lineNo++;
      if ("overlong" in item) {
        warn(`line of ${item.overlong} bytes is too long`);
        continue;
      }
      if (item.line.trim() === "") continue;
      try {
        if (lineNo === 1) {
          parseCastHeader(item.line);
          startedAt = performance.now();
          continue;
        }
        const ev = parseCastEvent(item.line);
        if (schedule) {
          const wait = startedAt + schedule.at(ev.time) - performance.now();
          if (wait > 0) {
            await sink.flush();
            await new Promise((r) => setTimeout(r, wait));
          }
        }
        if (ev.code === "o") await sink.write(ev.data);
      } catch (e) {
        if (!(e instanceof CastLineError)) throw e;
        if (e.code === "bad_version") throw new CliError(`${rec.path}: ${e.message}`);
        warn(e.message);
      }
    }
  } finally {
    await file.close();
  }
  if (warnings > MAX_WARNINGS) {
    ctx.out.error(`jumphost: warning: ${rec.path}: ${warnings - MAX_WARNINGS} more malformed lines skipped`);
  }
}

/** Buffers output text and writes it to stdout in batches (a terminal draws many small events at once). */
class StdoutSink {
  #parts: string[] = [];
  #size = 0;
  #enc = new TextEncoder();

  async write(text: string): Promise<void> {
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const bytes = this.#enc.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  }
}
