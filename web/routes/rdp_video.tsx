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
import { auditRecordingRead, checkedRecordingPath } from "../recording_files.ts";
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
  return app;
}
