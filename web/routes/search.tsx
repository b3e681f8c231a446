// /search: who ran a command, where, when — over the commands typed in recorded terminals and run by exec
// (db/session_commands.ts). Each hit opens the session's replay at that moment.
import { Hono } from "hono";
import { searchCommands } from "../../db/session_commands.ts";
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
                      <td colSpan={6}>No command matches.</td>
                    </tr>
                  )
                  : hits.map((h) => (
                    <tr>
                      <td>{h.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                      <td>{h.user_name}</td>
                      <td>{h.server_name}</td>
                      <td>{h.ssh_login ?? ""}</td>
                      <td>{h.kind}</td>
                      <td>
                        <a
                          class="search-hit"
                          href={`/sessions/${encodeURIComponent(h.session_id)}${
                            h.offset_seconds !== null
                              ? `?t=${Math.max(0, h.offset_seconds - 1).toFixed(1)}`
                              : ""
                          }`}
                        >
                          <code>{h.text}</code>
                        </a>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )
          : <p>Commands typed in recorded terminals and run by exec are searched, newest first.</p>}
      </>,
    );
  });
  return app;
}
