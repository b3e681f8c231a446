// GET / (dashboard) and its self-refreshing fragments.
import { Hono } from "hono";
import { activeSessions } from "../../db/session_queries.ts";
import { connectionsPerHour, dashboardCounts, topUsers } from "../../db/stats.ts";
import type { AppEnv, ListenerStatus } from "../deps.ts";
import { fragment, page } from "../render.tsx";
import { BarChart, RankChart } from "../views/chart.tsx";
import { SessionTable } from "../views/session_parts.tsx";
import { Badge } from "../views/parts.tsx";
import { need, type RouteCtx } from "./ctx.ts";
import { ttlCache } from "../ttl_cache.ts";
import type { DashboardCounts } from "../../db/stats.ts";
import type { Sql } from "../../db/client.ts";

const POLL = { "hx-trigger": "every 5s", "hx-swap": "outerHTML", "hx-headers": '{"X-JH-Poll": "1"}' };

function Cards(p: { c: DashboardCounts }) {
  const items: [string, string, number | null][] = [
    ["active-ssh", "Active SSH sessions", p.c.activeSsh],
    ["active-rdp", "Active RDP sessions", p.c.activeRdp],
    ["users", "Users", p.c.users],
    ["servers", "Servers", p.c.servers],
    ["policies", "Active policies", p.c.activePolicies],
    ["denials", "Denials today (UTC)", p.c.denialsToday],
    ["conversions", "Conversion queue", p.c.conversionQueue],
  ];
  return (
    <div class="cards" id="cards" hx-get="/dashboard/cards" {...POLL}>
      {items.map(([id, label, n]) => (
        <div class="card" id={`card-${id}`}>
          <div class="n">{n ?? "—"}</div>
          <div class="l">{label}</div>
        </div>
      ))}
    </div>
  );
}

function ActivePanel(p: { rows: Awaited<ReturnType<typeof activeSessions>>; now: Date }) {
  return (
    <div id="active-sessions" hx-get="/dashboard/active" {...POLL}>
      <SessionTable rows={p.rows} now={p.now} empty="No active sessions." />
      <p class="muted">
        Updated <time>{p.now.toISOString().slice(11, 19)}</time> UTC · refreshes every 5 s
      </p>
    </div>
  );
}

function StatusPanel(p: { listeners: ListenerStatus[]; dbMs: number | null; nodeId: string }) {
  return (
    <table id="status">
      <tbody>
        <tr>
          <td>Database</td>
          <td>{p.dbMs === null ? <Badge kind="bad">down</Badge> : <Badge kind="ok">up</Badge>}</td>
          <td class="muted">{p.dbMs === null ? "" : `${p.dbMs.toFixed(1)} ms`}</td>
        </tr>
        {p.listeners.map((l) => (
          <tr>
            <td>{l.name} listener</td>
            <td>
              <Badge kind={l.state === "up" ? "ok" : l.state === "down" ? "bad" : "warn"}>{l.state}</Badge>
            </td>
            <td class="mono">{l.address}{l.detail ? ` · ${l.detail}` : ""}</td>
          </tr>
        ))}
        <tr>
          <td>Node</td>
          <td colSpan={2} class="mono">{p.nodeId}</td>
        </tr>
      </tbody>
    </table>
  );
}

async function dbLatency(sql: Sql): Promise<number | null> {
  const t = performance.now();
  try {
    await sql`SELECT 1`;
    return performance.now() - t;
  } catch (_e) {
    // reported as "down" on the page; the error itself is the database layer's to log
    return null;
  }
}

export function dashboardRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("/", need("view"));
  app.use("/dashboard/*", need("view"));

  // the charts summarise hours and days: recomputing them at most every 30 s keeps the page fast on
  // large histories, while the cards and the active sessions stay live
  const charts = ttlCache(30_000, now, async (t) => {
    const [hours, top] = await Promise.all([
      connectionsPerHour(deps.sql, t),
      topUsers(deps.sql, new Date(t.getTime() - 7 * 86400_000), 10),
    ]);
    return { hours, top };
  });

  app.get("/", async (c) => {
    const t = now();
    const [counts, active, { hours, top }, dbMs] = await Promise.all([
      dashboardCounts(deps.sql, t),
      activeSessions(deps.sql, 50),
      charts(),
      dbLatency(deps.sql),
    ]);
    return page(
      c,
      "Dashboard",
      <>
        <h1>Dashboard</h1>
        <Cards c={counts} />
        <div class="grid2">
          <div class="panel">
            <h2>Connections per hour (last 24 h, UTC)</h2>
            <BarChart
              id="chart-hours"
              caption="Sessions started per hour"
              labelEvery={3}
              bars={hours.map((h) => ({
                label: h.hour.toISOString().slice(11, 13) + "h",
                value: h.ssh + h.rdp,
                title: `${h.hour.toISOString().slice(0, 13)}:00Z: ${h.ssh} SSH, ${h.rdp} RDP`,
              }))}
            />
          </div>
          <div class="panel">
            <h2>Top users (last 7 days)</h2>
            {top.length === 0 ? <p class="muted">No sessions in the last 7 days.</p> : (
              <RankChart
                id="chart-users"
                caption="Sessions per user"
                bars={top.map((u) => ({ label: u.user_name, value: u.sessions }))}
              />
            )}
          </div>
        </div>
        <h2>Active sessions</h2>
        <ActivePanel rows={active} now={t} />
        <h2>Status</h2>
        <StatusPanel listeners={deps.listenerStatus()} dbMs={dbMs} nodeId={deps.nodeId} />
      </>,
    );
  });

  app.get("/dashboard/cards", async (c) => fragment(c, <Cards c={await dashboardCounts(deps.sql, now())} />));
  app.get("/dashboard/active", async (c) => {
    const t = now();
    return fragment(c, <ActivePanel rows={await activeSessions(deps.sql, 50)} now={t} />);
  });
  return app;
}
