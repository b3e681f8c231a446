// jumphost recordings convert SESSION [--rush] [--wait] | queue [--recent N] | cancel JOB
// RDP recordings → MP4 through the conversion queue. With --wait and no `jumphost serve` pool alive,
// the CLI converts the job itself (same queue rules: it claims the job, so nothing runs it twice).
import { bool, int, parseArgs, positional, UsageError } from "./args.ts";
import { CliError, type Command } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { createLogger } from "../core/log.ts";
import { VERIFY_USAGE, verifyRecordings } from "./recordings_verify.ts";
import { json, printList } from "./output.ts";
import { progressBar, progressLine, type ProgressView } from "./progress_bar.ts";
import type { Sql } from "../db/client.ts";
import { cliActor } from "../db/audit_events.ts";
import { writeAudit } from "../db/audit.ts";
import { findSessionRef } from "../db/sessions.ts";
import {
  cancelConversion,
  type ConversionRow,
  getConversion,
  listQueue,
  rdpRecordingsOfSession,
} from "../db/conversions.ts";
import { claimNextConversion, livePools } from "../db/conversions_work.ts";
import { DEFAULT_CACHE_MAX_BYTES, mp4CacheDir, requestConversion, runJob } from "../recorder/convert/mod.ts";

const USAGE = "jumphost recordings convert SESSION [--rush] [--wait] [--json]\n" +
  `       ${VERIFY_USAGE}\n` +
  "       jumphost recordings queue [--recent N] [--json]\n" +
  "       jumphost recordings cancel JOB";

/** A pool that reported within this long counts as running. */
const POOL_ALIVE_MS = 30_000;

export const recordingsCommand: Command = {
  name: "recordings",
  summary: "convert RDP recordings to MP4, show and cancel conversion jobs, verify seals",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "convert":
        return await convert(ctx, rest);
      case "queue":
        return await queue(ctx, rest);
      case "cancel":
        return await cancel(ctx, rest);
      case "verify":
        return await verifyRecordings(ctx, rest);
      default:
        throw new UsageError(sub ? `unknown subcommand "recordings ${sub}"` : "missing subcommand");
    }
  },
};

async function convert(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["rush", "wait"] });
  const ref = positional(p, 0, "SESSION");
  const sql = await ctx.db();
  const session = await findSessionRef(sql, ref);
  if (!session) throw new CliError(`session "${ref}" not found`);
  const recordings = await rdpRecordingsOfSession(sql, session.session_id);
  if (recordings.length === 0) throw new CliError(`session ${session.session_id} has no RDP recording`);
  const actor = cliActor(), asJson = bool(p, "json");
  const jobs: ConversionRow[] = [];
  for (const rec of recordings) {
    const r = await requestConversion(sql, {
      recordingId: rec.id,
      rush: bool(p, "rush"),
      actor,
      now: new Date(),
    });
    await writeAudit(sql, {
      actor,
      action: "recording.convert",
      target: session.session_id,
      success: true,
      details: { recording: rec.id, job: r.job.id, status: r.status, rush: r.job.rush, via: "cli" },
    }, ctx.config.nodeId);
    if (!asJson) ctx.out.line(describeRequest(rec.id, r.status, r.job));
    jobs.push(r.job);
  }
  if (!bool(p, "wait")) {
    if (asJson) ctx.out.line(json(jobs));
    return 0;
  }
  const finished: ConversionRow[] = [];
  for (const j of jobs) finished.push(await waitForJob(ctx, sql, j, !asJson));
  if (asJson) ctx.out.line(json(finished));
  else for (const j of finished) ctx.out.line(describeEnd(j));
  return finished.every((j) => j.state === "done") ? 0 : 1;
}

function describeRequest(recordingId: number, status: string, j: ConversionRow): string {
  if (status === "cached") {
    return `recording ${recordingId}: already converted (job ${j.id}): ${j.output_path}`;
  }
  const verb = status === "queued" ? "queued as" : "already queued as";
  return `recording ${recordingId}: ${verb} job ${j.id}${j.rush ? " (rush)" : ""}`;
}

function describeEnd(j: ConversionRow): string {
  if (j.state !== "done") return `job ${j.id} ${j.state}${j.error ? `: ${j.error}` : ""}`;
  const mib = ((j.output_size ?? 0) / 2 ** 20).toFixed(1);
  return `job ${j.id} done: ${j.output_path} (${mib} MiB, ${j.video_width}x${j.video_height}, ` +
    `${Math.round((j.duration_ms ?? 0) / 1000)} s)`;
}

/** Follows a job to its end, converting it here when no pool is alive to do it. */
async function waitForJob(
  ctx: CommandContext,
  sql: Sql,
  job: ConversionRow,
  show: boolean,
): Promise<ConversionRow> {
  const tty = show && Deno.stdout.isTerminal();
  let last: ProgressView | null = null;
  const display = (v: ProgressView) => {
    if (!show) return;
    if (tty) Deno.stdout.writeSync(new TextEncoder().encode(`\r${progressBar(v)}\x1b[K`));
    else {
      const line = progressLine(v, last);
      if (line) ctx.out.line(line);
    }
    last = v;
  };
  try {
    for (let j = job;;) {
      display({ job: j.id, state: j.state, percent: j.progress, etaSeconds: j.eta_seconds });
      if (j.state !== "pending" && j.state !== "running") return j;
      if (j.state === "pending" && j.next_attempt_at <= new Date() && !(await poolAlive(sql))) {
        await convertHere(
          ctx,
          sql,
          j.id,
          (percent, etaSeconds) => display({ job: j.id, state: "running", percent, etaSeconds }),
        );
      } else await new Promise((r) => setTimeout(r, 500));
      j = (await getConversion(sql, j.id)) ?? { ...j, state: "cancelled", error: "the job was deleted" };
    }
  } finally {
    if (tty && last) Deno.stdout.writeSync(new TextEncoder().encode("\n"));
  }
}

async function poolAlive(sql: Sql): Promise<boolean> {
  return (await livePools(sql, new Date(), POOL_ALIVE_MS)).length > 0;
}

/** Claims the job for this process and converts it (Ctrl-C gives it back to the queue). */
async function convertHere(
  ctx: CommandContext,
  sql: Sql,
  id: number,
  onProgress: (percent: number, etaSeconds: number | null) => void,
): Promise<void> {
  const lock = `cli:${ctx.config.nodeId}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const claimed = await claimNextConversion(sql, {
    node: ctx.config.nodeId,
    lock,
    now: new Date(),
    onlyId: id,
  });
  if (!claimed) return; // someone else took it, or it is not due: keep watching
  const job = runJob({
    sql,
    nodeId: ctx.config.nodeId,
    mp4Dir: mp4CacheDir(ctx.config.dataDir),
    dataDir: ctx.config.dataDir,
    cacheMaxBytes: DEFAULT_CACHE_MAX_BYTES,
    log: createLogger("warn", "recordings"),
    now: () => new Date(),
    reportMs: 500,
    heartbeatMs: 10_000,
    onProgress: (p) => onProgress(p.percent, p.etaMs === null ? null : p.etaMs / 1000),
  }, claimed);
  const interrupt = () => job.stop("shutdown");
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    await job.done;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
  }
}

async function queue(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["recent"] });
  const sql = await ctx.db();
  const rows = await listQueue(sql, { recent: int(p, "recent", 0, 500) ?? 0 });
  const asJson = bool(p, "json");
  printList(
    ctx.out,
    asJson,
    [
      "job",
      "state",
      "pos",
      "session",
      "recording",
      "rush",
      "progress",
      "eta",
      "tries",
      "node",
      "requested by",
      "error",
    ],
    rows.map((r) => [
      r.id,
      r.state,
      r.position,
      r.session_id,
      r.recording_id,
      r.rush ? "yes" : "",
      `${r.progress.toFixed(0)}%`,
      r.state === "running" && r.eta_seconds !== null ? `${r.eta_seconds}s` : null,
      `${r.attempts}/${r.max_attempts}`,
      r.worker_node,
      r.requested_by,
      r.error,
    ]),
    rows,
  );
  if (!asJson && rows.some((r) => r.state === "pending") && !(await poolAlive(sql))) {
    ctx.out.error("note: no conversion pool is running (jumphost serve); pending jobs wait for one");
  }
  return 0;
}

async function cancel(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  const ref = positional(p, 0, "JOB");
  if (!/^\d{1,15}$/.test(ref)) throw new UsageError(`JOB must be a job number, not "${ref}"`);
  const sql = await ctx.db();
  const actor = cliActor();
  const j = await cancelConversion(sql, Number(ref), actor, new Date());
  await writeAudit(sql, {
    actor,
    action: "recording.convert_cancel",
    target: String(j.id),
    success: true,
    details: { recording: j.recording_id, job: j.id, via: "cli" },
  }, ctx.config.nodeId);
  ctx.out.line(`job ${j.id} cancelled`);
  return 0;
}
