// /sessions/:sid/files/:sha256: a file a session moved by scp/SFTP, kept by its server group's keep-files
// option (recorder/file_store.ts). Only through a session whose transfers list it as kept; every download
// audited (recording.download, format "file").
import { recordingStream } from "../../recorder/recording_read.ts";
import { isAgePath } from "../../core/age_file.ts";
import { Hono } from "hono";
import { findSession } from "../../db/session_queries.ts";
import { findKeptFile, keptFilePath, keptInSession } from "../../recorder/file_store.ts";
import { clientIp } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { notFound } from "../errors.tsx";
import { fileResponse } from "../range.ts";
import { auditRecordingRead, checkedRecordingPath, consoleRecordingKeys } from "../recording_files.ts";
import { actorOf, need, type RouteCtx } from "./ctx.ts";

export function sessionFileRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.get("/:sid/files/:sha", need("audit"), async (c) => {
    const s = await findSession(deps.sql, c.req.param("sid"));
    if (!s) throw notFound("session");
    const sha = c.req.param("sha");
    if (!deps.recordingsDir || !keptFilePath(deps.recordingsDir, sha) || !keptInSession(s.metadata, sha)) {
      throw notFound("kept file");
    }
    const path = await findKeptFile(deps.recordingsDir, sha);
    if (!path) throw notFound("kept file");
    const real = await checkedRecordingPath(path, deps.recordingsDir);
    const range = c.req.header("range");
    await auditRecordingRead(deps.sql, deps.nodeId, {
      actor: actorOf(c.get("session")),
      sourceIp: clientIp(c),
      sessionId: s.session_id,
      recording: null,
      format: "file",
      sha256: sha,
      download: true,
      range,
    });
    const headers = { "Content-Disposition": `attachment; filename="${sha}"` };
    if (isAgePath(real)) {
      // encrypted at rest: served decrypted, whole (no ranges: the plaintext cannot be seeked into cheaply)
      const body = await recordingStream(real, consoleRecordingKeys(deps.dataDir));
      return new Response(body, {
        headers: { ...headers, "Content-Type": "application/octet-stream", "Cache-Control": "no-store" },
      });
    }
    return await fileResponse(real, "application/octet-stream", range, headers);
  });
  return app;
}
