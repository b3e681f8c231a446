// GET /nodes: the nodes (serve processes) sharing this database and their health; the table refreshes
// itself every 5 s. Every console role may look (it is operational state, like the dashboard).
import { Hono } from "hono";
import { listNodes } from "../../db/nodes.ts";
import { DEFAULT_NODE_LOST_AFTER_S } from "../../core/node_health.ts";
import type { AppEnv } from "../deps.ts";
import { page } from "../render.tsx";
import { NodesTable } from "../views/node_views.tsx";
import { need, type RouteCtx } from "./ctx.ts";

export function nodeRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("view"));
  app.get("/", async (c) => {
    const rows = await listNodes(deps.sql);
    return page(
      c,
      "Nodes",
      <>
        <h1>Nodes</h1>
        <p class="muted">Every jumphost serve sharing this database.</p>
        <NodesTable
          rows={rows}
          self={deps.nodeId}
          lostAfterS={deps.nodeLostAfterS ?? DEFAULT_NODE_LOST_AFTER_S}
          now={now()}
        />
      </>,
    );
  });
  return app;
}
