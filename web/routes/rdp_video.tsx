// RDP recordings of a session: ask for the MP4, follow the conversion, play and download the video.
import { type Context, Hono } from "hono";
import { writeAudit } from "../../db/audit.ts";
import {
  ConversionQueueError,
  findRecordingRef,
  latestConversionOf,
  latestOutputOf,
} from "../../db/conversions.ts";
import { fingerprintOf } from "../../recorder/convert/cache.ts";
import { currentOutput, requestConversion } from "../../recorder/convert/request.ts";
import { clientIp } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { notFound } from "../errors.tsx";
import { fileResponse } from "../range.ts";
import { streamSSE } from "hono/streaming";
import { consoleSessionLive } from "../../db/console_sessions.ts";
import { findSession } from "../../db/session_queries.ts";
import { streamRdpLive } from "../rdp_live_stream.ts";
import { watchSession } from "../session_watch.ts";
import { indexDirOf, readKeyframe, recordingIndex } from "../../recorder/rdp_replay/index_store.ts";
import { auditRecordingRead, checkedRecordingPath, consoleRecordingKeys } from "../recording_files.ts";
import { recordingRangeResponse } from "../recording_range.ts";
import { fragment } from "../render.tsx";
import { RdpRecording, type RdpRecordingView } from "../views/rdp_parts.tsx";
import { actorOf, formOf, need, type RouteCtx } from "./ctx.ts";
import type { Sql } from "../../db/client.ts";

/** What the session page shows for one RDP recording. */
export async function rdpRecordingView(
  sql: Sql,
  rec: { id: number; path: string; size: number },
): Promise<RdpRecordingView> {
  const job = await latestConversionOf(sql, rec.id);
  let playable = false;
  try {
    playable = (await currentOutput(sql, rec.id, await fingerprintOf(rec.path))) !== null;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return { id: rec.id, size: rec.size, job, playable };
}

export function rdpVideoRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));

  /** the recording, checked to belong to the session in the URL */
  const recordingOf = async (c: Context<AppEnv>) => {
    const rid = c.req.param("rid") ?? "";
    if (!/^\d{1,15}$/.test(rid)) throw notFound("recording");
    const rec = await findRecordingRef(deps.sql, Number(rid));
    if (!rec || rec.session_id !== c.req.param("sid") || rec.kind !== "rdp") throw notFound("recording");
    return rec;
  };

  app.get("/:sid/recordings/:rid/status", async (c) => {
    const rec = await recordingOf(c);
    return fragment(
      c,
      <RdpRecording
        sid={rec.session_id}
        r={await rdpRecordingView(deps.sql, rec)}
        csrf={c.get("session").csrfToken}
        canConvert
      />,
    );
  });

  app.post("/:sid/recordings/:rid/convert", async (c) => {
    const rec = await recordingOf(c);
    const rush = (await formOf(c)).rush === "on";
    const back = `/sessions/${encodeURIComponent(rec.session_id)}`;
    try {
      const r = await requestConversion(deps.sql, {
        recordingId: rec.id,
        rush,
        actor: actorOf(c.get("session")),
        now: now(),
      });
      await writeAudit(deps.sql, {
        actor: actorOf(c.get("session")),
        action: "recording.convert",
        target: rec.session_id,
        sourceIp: clientIp(c),
        success: true,
        details: { recording: rec.id, status: r.status, job: r.job.id, rush },
      }, deps.nodeId);
      return c.redirect(`${back}?convert=${r.status}`, 303);
    } catch (e) {
      if (!(e instanceof ConversionQueueError)) throw e;
      await writeAudit(deps.sql, {
        actor: actorOf(c.get("session")),
        action: "recording.convert",
        target: rec.session_id,
        sourceIp: clientIp(c),
        success: false,
        details: { recording: rec.id, error: e.code },
      }, deps.nodeId);
      return c.redirect(`${back}?convert_error=${e.code}`, 303);
    }
  });

  app.get("/:sid/recordings/:rid/video", async (c) => {
    const rec = await recordingOf(c);
    const job = await latestOutputOf(deps.sql, rec.id);
    if (!job?.output_path) throw notFound("video");
    const path = await checkedRecordingPath(job.output_path, deps.mp4Dir);
    await auditRecordingRead(deps.sql, deps.nodeId, {
      actor: actorOf(c.get("session")),
      sourceIp: clientIp(c),
      sessionId: rec.session_id,
      recording: rec.id,
      format: "mp4",
      download: c.req.query("download") === "1",
      range: c.req.header("Range"),
    });
    const disposition: Record<string, string> = c.req.query("download") === "1"
      ? {
        "Content-Disposition": `attachment; filename="session-${
          rec.session_id.replace(/[^A-Za-z0-9._-]/g, "_")
        }-${rec.id}.mp4"`,
      }
      : {};
    return await fileResponse(path, "video/mp4", c.req.header("Range"), disposition);
  });
  // the in-browser player (web/player/rdp_player.ts): the raw recording by byte ranges, its seek index,
  // and the index's keyframes; reading the recording from its start and every keyframe are audited
  const indexOf = async (c: Context<AppEnv>) => {
    const rec = await recordingOf(c);
    const path = await checkedRecordingPath(rec.path, deps.recordingsDir);
    const dir = deps.rdpIndexDir ?? (deps.dataDir ? indexDirOf(deps.dataDir) : null);
    if (!dir) throw notFound("recording index");
    return {
      rec,
      dir,
      index: await recordingIndex(path, rec.id, dir, {}, consoleRecordingKeys(deps.dataDir)),
    };
  };

  app.get("/:sid/recordings/:rid/raw", async (c) => {
    const rec = await recordingOf(c);
    const path = await checkedRecordingPath(rec.path, deps.recordingsDir);
    await auditRecordingRead(deps.sql, deps.nodeId, {
      actor: actorOf(c.get("session")),
      sourceIp: clientIp(c),
      sessionId: rec.session_id,
      recording: rec.id,
      format: "rdp",
      download: false,
      range: c.req.header("Range"),
    });
    return await recordingRangeResponse(
      path,
      consoleRecordingKeys(deps.dataDir),
      "application/octet-stream",
      c.req.header("Range"),
      { "X-Content-Type-Options": "nosniff" },
    );
  });

  app.get("/:sid/recordings/:rid/index", async (c) => {
    const { index } = await indexOf(c);
    c.header("Cache-Control", "no-store");
    return c.json({
      width: index.width,
      height: index.height,
      durationMs: index.durationMs,
      complete: index.complete,
      stop: index.stop,
      keyframes: index.keyframes.map(({ t, fileOffset }) => ({ t, fileOffset })),
    });
  });

  app.get("/:sid/recordings/:rid/keyframes/:n", async (c) => {
    const n = c.req.param("n");
    if (!/^\d{1,9}$/.test(n)) throw notFound("keyframe");
    const { rec, dir, index } = await indexOf(c);
    if (Number(n) >= index.keyframes.length) throw notFound("keyframe");
    await auditRecordingRead(deps.sql, deps.nodeId, {
      actor: actorOf(c.get("session")),
      sourceIp: clientIp(c),
      sessionId: rec.session_id,
      recording: rec.id,
      format: "rdp",
      download: false,
      part: "keyframe",
    });
    const body = await readKeyframe(dir, index, Number(n));
    return c.body(body, 200, {
      "Content-Type": "application/octet-stream",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
  });
  // the live view of an active session: its growing recording, current screen first (rdp_live_stream.ts);
  // ends with the session, or with the console session that opened it
  app.get("/:sid/recordings/:rid/live", async (c) => {
    const rec = await recordingOf(c);
    const path = await checkedRecordingPath(rec.path, deps.recordingsDir);
    const sid = rec.session_id;
    const session = c.get("session");
    await auditRecordingRead(deps.sql, deps.nodeId, {
      actor: actorOf(session),
      sourceIp: clientIp(c),
      sessionId: sid,
      recording: rec.id,
      format: "rdp",
      download: false,
      part: "live",
    });
    return streamSSE(c, async (stream) => {
      const watch = watchSession({
        session,
        streams: ctx.streams,
        everyMs: ctx.limits.recheckMs,
        stillValid: () => consoleSessionLive(deps.sql, session.tokenHash, now(), ctx.limits),
        onCheckError: (e) => deps.log("warn", `web: RDP live view of ${sid}: session check failed: ${e}`),
      });
      try {
        await streamRdpLive(
          stream,
          path,
          async () => (await findSession(deps.sql, sid))?.is_active ?? false,
          { signal: watch.signal, keys: consoleRecordingKeys(deps.dataDir) },
        );
        const why = watch.reason();
        if (why && !stream.aborted) await stream.writeSSE({ event: "logged_out", data: JSON.stringify(why) });
      } finally {
        watch.stop();
      }
    }, (e) => {
      deps.log("debug", `web: RDP live view of ${sid} stopped: ${e.message}`);
      return Promise.resolve();
    });
  });
  return app;
}
