// /sessions: history with filters and keyset pages, detail, asciicast download and replay, live view, kill.
import { recordingStream } from "../../recorder/recording_read.ts";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { writeAudit } from "../../db/audit.ts";
import {
  findSession,
  listSessions,
  recordingsOfSession,
  SESSION_STATUSES,
} from "../../db/session_queries.ts";
import { can } from "../auth.ts";
import type { AppEnv } from "../deps.ts";
import { notFound } from "../errors.tsx";
import { streamCast } from "../live_stream.ts";
import { watchSession } from "../session_watch.ts";
import { consoleSessionLive } from "../../db/console_sessions.ts";
import { reader, withQuery } from "../query.ts";
import {
  auditRecordingRead,
  castPathOf,
  castRecordingId,
  checkedRecordingPath,
  consoleRecordingKeys,
} from "../recording_files.ts";
import { page } from "../render.tsx";
import { Flash } from "../views/parts.tsx";
import { SessionTable } from "../views/session_parts.tsx";
import { SessionDetail } from "../views/session_detail.tsx";
import { createTamperState } from "../tamper_state.ts";
import { SessionFilters } from "../views/session_filters.tsx";
import { convertErrorText } from "../views/rdp_parts.tsx";
import { rdpRecordingView } from "./rdp_video.tsx";
import { actorOf, need, type RouteCtx } from "./ctx.ts";
import { clientIp } from "../auth.ts";

const PAGE = 50;

/** `?t=SECONDS` (a search hit): where the replay starts; anything else is ignored. */
function startAt(t: string | undefined): number | undefined {
  const v = t === undefined ? NaN : Number(t);
  return Number.isFinite(v) && v >= 0 && v < 1e7 ? v : undefined;
}

export function sessionRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));
  const tamper = createTamperState(deps.sql, deps.dataDir, deps.trustedSigners ?? null);

  app.get("/", async (c) => {
    const r = reader(c.req.query());
    const filter = {
      protocol: r.oneOf("protocol", ["ssh", "rdp"] as const),
      status: r.oneOf("status", SESSION_STATUSES),
      user: r.str("user", 64),
      server: r.str("server", 64),
      since: r.date("from"),
      until: r.date("to", true),
      text: r.str("q", 100),
      afterId: r.id("after"),
      limit: PAGE + 1,
    };
    const bad = Object.keys(r.errors).length > 0;
    const rows = bad ? [] : await listSessions(deps.sql, filter);
    const more = rows.length > PAGE;
    const shown = rows.slice(0, PAGE);
    const filterValues = { ...r.values };
    delete filterValues.after;
    return page(
      c,
      "Sessions",
      <>
        <h1>Sessions</h1>
        <SessionFilters values={r.values} errors={r.errors} />
        <SessionTable
          rows={shown}
          now={now()}
          id="sessions-table"
          empty={bad ? "Fix the filters above." : "No sessions match."}
        />
        <div class="pager">
          {filter.afterId !== undefined
            ? <a href={withQuery("/sessions", filterValues, {})}>« First page</a>
            : null}
          {more
            ? (
              <a
                id="next-page"
                href={withQuery("/sessions", filterValues, { after: String(shown[shown.length - 1].id) })}
              >
                Next page »
              </a>
            )
            : null}
        </div>
      </>,
      { status: bad ? 400 : 200 },
    );
  });

  app.get("/:sid", async (c) => {
    const s = await findSession(deps.sql, c.req.param("sid"));
    if (!s) throw notFound("session");
    const recordings = await recordingsOfSession(deps.sql, s.id);
    const seals = new Map(
      await Promise.all(recordings.map(async (r) => [r.id, await tamper.recording(r.id)] as const)),
    );
    const castPath = await castPathOf(deps.sql, s);
    const live = s.is_active && s.protocol === "ssh" && castPath !== null;
    const replay = !s.is_active && castPath !== null;
    const rdp = await Promise.all(
      recordings.filter((r) => r.kind === "rdp").map((r) => rdpRecordingView(deps.sql, r)),
    );
    const msg = c.req.query("killed");
    const convert = c.req.query("convert");
    const convertError = convertErrorText(c.req.query("convert_error"));
    return page(
      c,
      `Session ${s.session_id}`,
      <>
        {msg === "1" ? <Flash kind="ok">The session was told to end.</Flash> : null}
        {msg === "0" ? <Flash kind="error">The session was no longer active.</Flash> : null}
        {convert
          ? (
            <Flash kind="ok">
              {convert === "cached" ? "The video is ready." : "The recording is queued for conversion."}
            </Flash>
          )
          : null}
        {convertError ? <Flash kind="error">{convertError}</Flash> : null}
        <SessionDetail
          s={s}
          recordings={recordings}
          now={now()}
          canKill={can(c.get("session").role, "kill")}
          csrf={c.get("session").csrfToken}
          live={live}
          replay={replay}
          startAt={startAt(c.req.query("t"))}
          startRecording={/^\d{1,15}$/.test(c.req.query("rec") ?? "")
            ? Number(c.req.query("rec"))
            : undefined}
          hasCast={castPath !== null}
          rdp={rdp}
          seals={seals}
          canDownloadFiles={can(c.get("session").role, "audit")}
        />
      </>,
      {
        scripts: [
          ...(live ? ["xterm.js"] : replay ? ["asciinema-player.min.js"] : []),
          ...(rdp.length ? ["rdp_player.js"] : []),
        ],
        styles: live ? ["xterm.css"] : replay ? ["asciinema-player.css"] : [],
      },
    );
  });

  app.get("/:sid/cast", async (c) => {
    const s = await findSession(deps.sql, c.req.param("sid"));
    if (!s) throw notFound("session");
    const p = await castPathOf(deps.sql, s);
    if (!p) throw notFound("recording");
    const real = await checkedRecordingPath(p, deps.recordingsDir);
    // the asciicast itself, decrypted when it is stored encrypted (`.age`)
    const body = await recordingStream(real, consoleRecordingKeys(deps.dataDir));
    const download = c.req.query("download") === "1";
    try {
      await auditRecordingRead(deps.sql, deps.nodeId, {
        actor: actorOf(c.get("session")),
        sourceIp: clientIp(c),
        sessionId: s.session_id,
        recording: await castRecordingId(deps.sql, s, p),
        format: "asciicast",
        download,
      });
    } catch (e) {
      await body.cancel(); // no read without its audit row
      throw e;
    }
    c.header("Content-Type", "application/x-asciicast");
    c.header("Cache-Control", "no-store");
    if (download) {
      c.header(
        "Content-Disposition",
        `attachment; filename="session-${s.session_id.replace(/[^A-Za-z0-9._-]/g, "_")}.cast"`,
      );
    }
    return c.body(body);
  });

  app.get("/:sid/live", async (c) => {
    const s = await findSession(deps.sql, c.req.param("sid"));
    if (!s || s.protocol !== "ssh") throw notFound("session");
    const p = await castPathOf(deps.sql, s);
    if (!p) throw notFound("recording");
    const real = await checkedRecordingPath(p, deps.recordingsDir);
    const sid = s.session_id;
    const session = c.get("session");
    return streamSSE(c, async (stream) => {
      const watch = watchSession({
        session,
        streams: ctx.streams,
        everyMs: ctx.limits.recheckMs,
        stillValid: () => consoleSessionLive(deps.sql, session.tokenHash, now(), ctx.limits),
        onCheckError: (e) => deps.log("warn", `web: live view of ${sid}: session check failed: ${e}`),
      });
      try {
        await streamCast(stream, real, async () => (await findSession(deps.sql, sid))?.is_active ?? false, {
          signal: watch.signal,
          keys: consoleRecordingKeys(deps.dataDir),
        });
        const why = watch.reason();
        // the page shows why the view stopped instead of reconnecting into a login redirect
        if (why && !stream.aborted) await stream.writeSSE({ event: "logged_out", data: JSON.stringify(why) });
      } finally {
        watch.stop();
      }
    }, (e) => {
      deps.log("debug", `web: live view of ${sid} stopped: ${e.message}`);
      return Promise.resolve();
    });
  });

  app.post("/:sid/kill", need("kill"), async (c) => {
    const s = await findSession(deps.sql, c.req.param("sid"));
    if (!s) throw notFound("session");
    const ended = s.is_active ? await deps.killSession(s.session_id, actorOf(c.get("session"))) : false;
    await writeAudit(deps.sql, {
      actor: actorOf(c.get("session")),
      action: "session.kill",
      target: s.session_id,
      sourceIp: clientIp(c),
      success: ended,
      details: { user: s.user_name, server: s.server_name, protocol: s.protocol, via: "console" },
    }, deps.nodeId);
    return c.redirect(`/sessions/${encodeURIComponent(s.session_id)}?killed=${ended ? 1 : 0}`, 303);
  });
  return app;
}
