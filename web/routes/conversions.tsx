// /recordings: the conversion queue page, Rush and Cancel for a job, and the raw RDP recording download.
// (Requesting a conversion, its status fragment and the MP4 stream live with the session page, in
// rdp_video.tsx.) Every console role may do all of this: auditors are the people who watch recordings,
// so asking for, hurrying and cancelling conversions is part of their job; the audit log says who did.
import { Hono } from "hono";
import { writeAudit } from "../../db/audit.ts";
import {
  cancelConversion,
  ConversionQueueError,
  findRecordingRef,
  listQueue,
  rushConversion,
} from "../../db/conversions.ts";
import { livePools } from "../../db/conversions_work.ts";
import { clientIp, safeNext } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { notFound } from "../errors.tsx";
import { fileResponse } from "../range.ts";
import { checkedRecordingPath } from "../recording_files.ts";
import { page } from "../render.tsx";
import { QueueTable } from "../views/conversion_parts.tsx";
import { actorOf, formOf, need, type RouteCtx } from "./ctx.ts";

/** Finished jobs shown under the live ones on the queue page. */
const RECENT = 20;
const POOL_ALIVE_MS = 30_000;

function withParam(path: string, key: string, value: string): string {
  const u = new URL(path, "http://x");
  u.searchParams.set(key, value);
  return u.pathname + u.search;
}

export function conversionRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));

  app.get("/queue", async (c) => {
    const [rows, pools] = await Promise.all([
      listQueue(deps.sql, { recent: RECENT }),
      livePools(deps.sql, now(), POOL_ALIVE_MS),
    ]);
    return page(
      c,
      "Conversions",
      <>
        <h1>Conversions</h1>
        <p class="muted">
          RDP recordings being converted to video, in the order they run; then recent results.
        </p>
        <QueueTable rows={rows} csrf={c.get("session").csrfToken} poolsAlive={pools.length} />
      </>,
    );
  });

  const jobAction = (action: "rush" | "cancel") =>
    app.post(`/jobs/:jid/${action}`, async (c) => {
      const jid = c.req.param("jid");
      if (!/^\d{1,15}$/.test(jid)) throw notFound("conversion job");
      const back = safeNext((await formOf(c)).back ?? "/recordings/queue");
      const actor = actorOf(c.get("session"));
      try {
        const j = action === "rush"
          ? await rushConversion(deps.sql, Number(jid), now())
          : await cancelConversion(deps.sql, Number(jid), actor, now());
        await writeAudit(deps.sql, {
          actor,
          action: action === "rush" ? "recording.convert" : "recording.convert_cancel",
          target: String(j.id),
          sourceIp: clientIp(c),
          success: true,
          details: {
            recording: j.recording_id,
            job: j.id,
            ...(action === "rush" ? { rush: true } : {}),
            via: "console",
          },
        }, deps.nodeId);
        return c.redirect(back, 303);
      } catch (e) {
        if (!(e instanceof ConversionQueueError)) throw e;
        if (e.code === "not_found") throw notFound("conversion job");
        return c.redirect(withParam(back, "convert_error", e.code), 303);
      }
    });
  jobAction("rush");
  jobAction("cancel");

  app.get("/:rid/raw", async (c) => {
    const rid = c.req.param("rid");
    if (!/^\d{1,15}$/.test(rid)) throw notFound("recording");
    const rec = await findRecordingRef(deps.sql, Number(rid));
    if (!rec || rec.kind !== "rdp") throw notFound("recording");
    const path = await checkedRecordingPath(rec.path, deps.recordingsDir);
    const range = c.req.header("Range");
    if (!range || /^bytes=0-/.test(range.trim())) { // a download starting (not each resumed piece)
      await writeAudit(deps.sql, {
        actor: actorOf(c.get("session")),
        action: "recording.download",
        target: rec.session_id,
        sourceIp: clientIp(c),
        success: true,
        details: { recording: rec.id, kind: "rdp", size: rec.size },
      }, deps.nodeId);
    }
    // as stored: an encrypted recording stays encrypted (README, "Encrypted recordings at rest")
    const suffix = rec.path.endsWith(".age") ? ".rdprec.age" : ".rdprec";
    const name = `session-${rec.session_id.replace(/[^A-Za-z0-9._-]/g, "_")}-${rec.id}${suffix}`;
    return await fileResponse(path, "application/octet-stream", range, {
      "Content-Disposition": `attachment; filename="${name}"`,
      "X-Content-Type-Options": "nosniff",
    });
  });
  return app;
}
