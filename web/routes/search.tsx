// /search: who ran a command, where, when — over the commands typed in recorded terminals and run by exec
// (db/session_commands.ts). Each hit opens the session's replay at that moment.
import { Hono } from "hono";
import { searchCommands, type SearchHit } from "../../db/session_commands.ts";
import type { AppEnv } from "../deps.ts";
import { reader } from "../query.ts";
import { page } from "../render.tsx";
import { need, type RouteCtx } from "./ctx.ts";

export function searchRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("audit"));
  app.get("/", async (c) => {
    const r = reader(c.req.query());
    const q = r.str("q", 200) ?? "";
    const days = Number(c.req.query("days") ?? "30");
    const since = Number.isInteger(days) && days > 0 && days <= 3650
      ? new Date(ctx.now().getTime() - days * 86_400_000)
      : undefined;
    // trigrams index 3 characters and more: a shorter text would read every line
    const tooShort = q.trim() !== "" && [...q.trim()].length < 3;
    const hits = q.trim() && !tooShort
      ? await searchCommands(deps.sql, { text: q.trim(), since, limit: 200 })
      : [];
    return page(
      c,
      "Search",
      <>
        <h1>Who ran it</h1>
        <form method="get" action="/search" class="filters">
          <label>
            Command contains <input type="search" name="q" value={q} required minLength={3} maxLength={200} />
          </label>
          <label>
            Within the last{" "}
            <input type="number" name="days" value={String(since ? days : 30)} min="1" max="3650" /> days
          </label>
          <button type="submit">Search</button>
        </form>
        {tooShort ? <p class="error" role="alert">Search for at least 3 characters.</p> : null}
        {q.trim() && !tooShort
          ? (
            <table id="search-results">
              <thead>
                <tr>
                  <th>When (UTC)</th>
                  <th>User</th>
                  <th>Server</th>
                  <th>Login</th>
                  <th>How</th>
                  <th>Command</th>
                </tr>
              </thead>
              <tbody>
                {hits.length === 0
                  ? (
                    <tr>
                      <td colSpan={6}>Nothing matches.</td>
                    </tr>
                  )
                  : hits.map((h) => (
                    <tr>
                      <td>{h.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                      <td>{h.user_name}</td>
                      <td>{h.server_name}</td>
                      <td>{h.ssh_login ?? ""}</td>
                      <td>{KIND_LABELS[h.kind] ?? h.kind}</td>
                      <td>
                        <a
                          class="search-hit"
                          href={hitHref(h)}
                        >
                          <code>{h.text}</code>
                        </a>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )
          : (
            <p>
              Searched, newest first: commands typed in recorded terminals and run by exec, the lines
              terminals showed, files moved by scp/SFTP, and on RDP desktops the lines typed and the clipboard
              texts.
            </p>
          )}
      </>,
    );
  });
  return app;
}

const KIND_LABELS: Record<string, string> = {
  typed: "typed",
  exec: "exec",
  file: "file",
  output: "output",
  keys: "typed (RDP)",
  clipboard: "clipboard (RDP)",
};

/** The session page at the hit's moment: the terminal player, or the RDP player of that recording. */
function hitHref(h: SearchHit): string {
  const base = `/sessions/${encodeURIComponent(h.session_id)}`;
  if (h.offset_seconds === null) return base;
  const t = `?t=${Math.max(0, h.offset_seconds - 1).toFixed(1)}`;
  return h.protocol === "rdp" && h.recording_id !== null ? `${base}${t}&rec=${h.recording_id}` : base + t;
}
