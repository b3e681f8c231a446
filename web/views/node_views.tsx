// The Nodes page's table: every serve sharing the database, its health and last heartbeat age.
import type { NodeRow } from "../../db/nodes.ts";
import { type NodeHealth, nodeHealth } from "../../core/node_health.ts";
import { Badge } from "./parts.tsx";

const KIND: Record<NodeHealth, "ok" | "warn" | "bad" | undefined> = {
  ok: "ok",
  late: "warn",
  lost: "bad",
  stopped: undefined,
};

/** a signed offset in seconds, without "-0.0" for offsets that round to nothing */
const seconds = (ms: number) =>
  Math.abs(ms) < 50 ? "0.0 s" : `${ms > 0 ? "+" : ""}${(ms / 1000).toFixed(1)} s`;

// a string child keeps its leading space (JSX text would lose it)
const SELF_MARK = " (this node)";

const utc = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

export function NodesTable(p: { rows: NodeRow[]; self: string; lostAfterS: number; now: Date }) {
  return (
    <div
      id="nodes"
      hx-get="/nodes"
      hx-trigger="every 5s"
      hx-swap="outerHTML"
      hx-select="#nodes"
      hx-headers='{"X-JH-Poll": "1"}'
    >
      {p.rows.length === 0
        ? <p class="muted">No node has registered yet.</p>
        : (
          <table class="list" id="nodes-table">
            <thead>
              <tr>
                <th>Node</th>
                <th>Health</th>
                <th>Last heartbeat</th>
                <th>Version</th>
                <th>Started (UTC)</th>
                <th>SSH</th>
                <th>RDP</th>
                <th>Console</th>
                <th>Open sessions</th>
                <th>Clock offset</th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map((n) => {
                const health = nodeHealth(n.state, n.heartbeat_age_ms, p.lostAfterS * 1000);
                return (
                  <tr id={`node-${n.name}`} data-health={health}>
                    <td class="mono">
                      {n.name}
                      {n.name === p.self ? <span class="muted">{SELF_MARK}</span> : null}
                    </td>
                    <td>
                      <Badge kind={KIND[health]}>{health}</Badge>
                      {n.lost_at
                        ? <div class="muted">declared lost {utc(n.lost_at)} by {n.lost_by ?? "?"}</div>
                        : null}
                    </td>
                    <td class="heartbeat-age">{(n.heartbeat_age_ms / 1000).toFixed(1)} s ago</td>
                    <td class="mono">{n.version}</td>
                    <td>{utc(n.started_at)}</td>
                    <td class="mono">{n.ssh_listen.join(", ")}</td>
                    <td class="mono">{n.rdp_listen.join(", ")}</td>
                    <td class="mono">{n.web_listen.join(", ")}</td>
                    <td class="sessions">{n.active_sessions}</td>
                    <td>{seconds(n.clock_skew_ms)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      <p class="muted">
        A node beats every 5 s; late after two missed beats, lost after {p.lostAfterS}{" "}
        s (its open sessions are then closed as node_lost). Updated{" "}
        <time>{p.now.toISOString().slice(11, 19)}</time> UTC · refreshes every 5 s
      </p>
    </div>
  );
}
